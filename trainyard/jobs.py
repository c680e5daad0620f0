"""What an agent knows about a job: a read-only snapshot of the chain, independent of web3."""

from __future__ import annotations

import enum
from dataclasses import dataclass

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


class JobState(enum.IntEnum):
    """Mirrors ``IJobMarket.JobState``; derived on chain from stored timestamps and the clock."""

    NONE = 0
    BIDDING = 1
    REVEALING = 2
    AWAITING_SETTLEMENT = 3
    TRAINING = 4
    CHALLENGE = 5
    DISPUTED = 6
    FINALIZABLE = 7
    FINALIZED = 8
    CANCELLED = 9
    REFUNDED = 10
    SLASHED = 11

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")

    @property
    def is_over(self) -> bool:
        return self in (JobState.FINALIZED, JobState.CANCELLED, JobState.REFUNDED, JobState.SLASHED)


@dataclass(frozen=True)
class JobView:
    job_id: int
    state: JobState
    submitter: str
    spec_hash: bytes
    spec_cid: str
    max_price: int
    stake_per_bid: int
    num_windows: int
    bid_deadline: int
    reveal_deadline: int
    train_deadline: int
    challenge_period: int
    bid_count: int
    winner: str  # ZERO_ADDRESS until the auction is settled
    leader: str  # the best valid revealed bid so far (ZERO_ADDRESS if none)
    price: int  # what the winner is paid (second-lowest valid bid), 0 until settled
    leaf_count: int
    trace_root: bytes
    result_at: int  # 0 until a result is submitted
    open_disputes: int

    @property
    def finalize_at(self) -> int:
        return self.result_at + self.challenge_period if self.result_at else 0
