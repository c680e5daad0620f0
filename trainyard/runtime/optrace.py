"""The op-level trace of one training step, for the dispute game's last bisection and its one-step proof.

After each op of :func:`~trainyard.runtime.model.step_ops` the *machine state* is every live tensor; its root is
the state-root scheme of :mod:`trainyard.runtime.commit` over the live tensors (so the machine root after the last
op is the next state root). :func:`trace_step` records every op's machine root and tensor commitments;
:func:`open_chunk` opens one chunk of a tensor against its commitment and :func:`open_tensor` one tensor's
(name, commitment) leaf against the machine root: what a party reveals on chain.

Chunk layout and what one output chunk needs (for the Solidity twins of the ops): tensors are row-major in chunks
of 64 values. An output chunk of ``linear`` (z = a·Wᵀ + b) needs one row of ``a`` and 64 rows of ``W`` (rows of W
are its columns in the product); ``grad_weight`` (dW = gᵀ·a) needs one column of ``g`` and one of ``a``, which
are spread over B chunks each: the dispute game's op step for it reveals B chunks of each, still O(B) calldata.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from trainyard import merkle
from trainyard.runtime import commit
from trainyard.runtime.data import Dataset
from trainyard.runtime.model import State, TrainConfig, step_ops


@dataclass(frozen=True)
class OpRecord:
    index: int
    op: str
    root: bytes  # machine-state root after the op
    commitments: dict[str, bytes]  # live tensor name -> tensor commitment


def machine_root(step: int, live: dict[str, torch.Tensor]) -> bytes:
    return commit.state_root(step, live)


def trace_step(cfg: TrainConfig, data: Dataset, state: State, matmul: str = "auto") -> tuple[list[OpRecord], State]:
    """Run one step from ``state`` (not modified) op by op; return the records and the next state."""
    work = State(state.step, state.layers, {k: v.clone() for k, v in state.tensors.items()})
    records = [OpRecord(0, "start", work.root(), {k: commit.tensor_commitment(v) for k, v in work.tensors.items()})]
    for op, live in step_ops(cfg, data, work, matmul):
        records.append(OpRecord(len(records), op, machine_root(work.step, live),
                                {k: commit.tensor_commitment(v) for k, v in live.items()}))
    return records, work


def open_chunk(tensor: torch.Tensor, chunk: int) -> tuple[bytes, list[bytes], int]:
    """(leaf data, inclusion proof, leaf count) of chunk ``chunk`` (0-based, after the header leaf)."""
    leaves = commit.tensor_leaves(tensor)
    return leaves[chunk + 1], merkle.proof(leaves, chunk + 1), len(leaves)


def open_tensor(step: int, live: dict[str, torch.Tensor], name: str) -> tuple[bytes, list[bytes], int]:
    """(leaf data, proof, leaf count) of tensor ``name``'s (sha256(name), commitment) leaf in the machine root."""
    leaves = commit.state_leaves(step, live)
    i = sorted(live).index(name) + 1
    return leaves[i], merkle.proof(leaves, i), len(leaves)
