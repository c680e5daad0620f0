"""A challenger's decisions, with no chain: which windows of a job to re-execute, and what to do about a job."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from trainyard.jobs import JobState, JobView


@dataclass(frozen=True)
class ChallengerPolicy:
    """``sample_rate``: the fraction of a job's windows re-executed (at least one; 1.0 checks all).
    ``after_result``: wait for the result (a whistleblower) instead of checking windows as they are committed."""

    sample_rate: float = 0.25
    after_result: bool = False
    degree: int = 2
    secret: bytes = b""  # seeds the sample: a solver cannot predict which windows this challenger checks

    def __post_init__(self) -> None:
        if not 0 < self.sample_rate <= 1:
            raise ValueError(f"sample rate must be in (0, 1], got {self.sample_rate}")
        if not 2 <= self.degree <= 16:
            raise ValueError(f"dissection degree must be 2..16, got {self.degree}")


def sampled_windows(policy: ChallengerPolicy, job_id: int, num_windows: int) -> list[int]:
    """The windows this challenger re-executes for a job: ceil(rate · n) of them, drawn from a keyed hash so the
    choice is fixed per job and secret; always sorted."""
    k = max(1, math.ceil(policy.sample_rate * num_windows))
    if k >= num_windows:
        return list(range(num_windows))

    def key(w: int) -> bytes:
        return hashlib.sha256(policy.secret + job_id.to_bytes(32, "big") + w.to_bytes(8, "big")).digest()

    return sorted(sorted(range(num_windows), key=key)[:k])


def watchable(job: JobView, policy: ChallengerPolicy) -> bool:
    """Whether a job's trace can be checked and disputed now."""
    if job.state in (JobState.CHALLENGE, JobState.DISPUTED):
        return True
    return job.state is JobState.TRAINING and job.leaf_count > 0 and not policy.after_result


def due(job: JobView, policy: ChallengerPolicy, checked: set[int]) -> list[int]:
    """Sampled windows already committed and not yet checked."""
    return [w for w in sampled_windows(policy, job.job_id, job.num_windows) if w < job.leaf_count and w not in checked]
