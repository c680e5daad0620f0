"""How many threads torch may use in an agent that trains.

The exact runtime multiplies small matrices (every width at most 64, batches at most 32, see
:data:`trainyard.spec.MAX_WIDTH`): far less work per op than it costs to wake a pool of threads. torch's default, one
thread per core, made training inside an agent 20-50x slower on a busy 2-core machine (7-16 steps/s against 325-531
with one thread), so an agent uses one thread unless told otherwise. The result does not depend on it: every op is
exact whatever the thread count.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from trainyard.errors import TrainyardError

log = logging.getLogger(__name__)


def choose_threads(requested: int | None, environ: Mapping[str, str] | None = None) -> int:
    """The torch thread count of an agent: ``requested`` (``--threads``) when given, else ``OMP_NUM_THREADS`` when it
    is set to a positive number (the user chose it for every OpenMP program), else 1."""
    if requested is not None:
        if requested < 1:
            raise TrainyardError(f"--threads: at least 1, got {requested}")
        return requested
    env = os.environ if environ is None else environ
    text = env.get("OMP_NUM_THREADS", "").strip()
    if text.isdigit() and int(text) >= 1:
        return int(text)
    return 1


def use_threads(n: int) -> int:
    """Make torch use ``n`` threads for its ops (and for its inter-op pool when it has not started yet); return the
    count torch reports."""
    import torch

    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:  # the pool already ran: only intra-op threads can change now
        log.debug("torch's inter-op pool has started; its size is kept")
    return int(torch.get_num_threads())


def steps_per_second(steps: int, seconds: float) -> str:
    """A training speed as agents print it: ``325 steps/s``."""
    return f"{steps / max(seconds, 1e-9):,.0f} steps/s"
