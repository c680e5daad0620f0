"""The op-level trace of one training step, for the dispute game's op dissection and its one-step proof.

A step is the N = 7L + 1 ops of :func:`op_schedule` (docs/disputes.md), the very sequence
:func:`~trainyard.runtime.model.step_ops` runs. Machine state i is the state after op i, as the S slot values of
:mod:`trainyard.runtime.commit`: state 0 is the state root of step k and state N the state root of step k + 1.
:func:`trace_step` records every machine state's values and root; :func:`machine_tensors` replays a step up to
op i for the tensors behind them (what a party opens); :func:`open_chunk` opens one chunk of a tensor against its
commitment and :func:`open_slot` one slot value against the machine root. Which slots each op reads and writes,
and what one output value needs, is :mod:`trainyard.dispute.witness`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from trainyard import merkle
from trainyard.runtime import commit
from trainyard.runtime.data import Dataset
from trainyard.runtime.model import State, TrainConfig, step_ops

KINDS = ("batch", "linear", "relu", "softmax_xent_grad", "grad_weight", "grad_bias", "grad_input", "sgd_weight",
         "sgd_bias", "end")


@dataclass(frozen=True)
class Op:
    """Op ``index`` (1..N) of a step: its kind and the layer it works on (L − 1 for softmax, 0 for batch and end)."""

    index: int
    kind: str
    layer: int

    @property
    def name(self) -> str:
        """The op's name as :func:`~trainyard.runtime.model.step_ops` yields it."""
        if self.kind in ("batch", "softmax_xent_grad", "end"):
            return self.kind
        if self.kind in ("sgd_weight", "sgd_bias"):
            return f"sgd_l{self.layer}.{self.kind[4:]}"
        return f"{self.kind}{self.layer}"


def op_count(n_layers: int) -> int:
    """N = 7L + 1."""
    return 7 * n_layers + 1


def op_schedule(n_layers: int) -> list[Op]:
    """The ops of one step, in order (index 1..N)."""
    kinds: list[tuple[str, int]] = [("batch", 0)]
    for l in range(n_layers):
        kinds += [("linear", l)] + ([("relu", l)] if l < n_layers - 1 else [])
    kinds.append(("softmax_xent_grad", n_layers - 1))
    for l in range(n_layers - 1, -1, -1):
        kinds += [("grad_weight", l), ("grad_bias", l)] + ([("grad_input", l)] if l > 0 else [])
    for l in range(n_layers):
        kinds += [("sgd_weight", l), ("sgd_bias", l)]
    kinds.append(("end", 0))
    return [Op(i, kind, layer) for i, (kind, layer) in enumerate(kinds, start=1)]


@dataclass(frozen=True)
class OpRecord:
    index: int  # machine state i: after op i (0: the start of the step)
    op: str  # the op's name ("start" for state 0)
    values: list[bytes]  # the S slot values
    root: bytes  # their machine root


def _clone(state: State) -> State:
    return State(state.step, state.layers, {k: v.clone() for k, v in state.tensors.items()})


class _Commitments:
    """Tensor commitments, remembered per tensor object and version (an op replaces the tensors it writes)."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[torch.Tensor, int, bytes]] = {}

    def __call__(self, t: torch.Tensor) -> bytes:
        hit = self._seen.get(id(t))
        if hit is None or hit[1] != t._version:
            hit = (t, t._version, commit.tensor_commitment(t))
            self._seen[id(t)] = hit
        return hit[2]


def _record(index: int, op: str, step: int, live: dict[str, torch.Tensor], n_layers: int,
            commitments: _Commitments) -> OpRecord:
    values = commit.machine_values(step, live, n_layers, commitments)
    return OpRecord(index, op, values, commit.machine_root(values))


def trace_step(cfg: TrainConfig, data: Dataset, state: State, matmul: str = "auto") -> tuple[list[OpRecord], State]:
    """Run one step from ``state`` (not modified) op by op; return the N + 1 records and the next state."""
    work = _clone(state)
    n_layers = len(state.layers) - 1
    commitments = _Commitments()
    records = [_record(0, "start", work.step, work.tensors, n_layers, commitments)]
    for op, live in step_ops(cfg, data, work, matmul):
        records.append(_record(len(records), op, work.step, live, n_layers, commitments))
    return records, work


def machine_tensors(
    cfg: TrainConfig, data: Dataset, state: State, op_index: int, matmul: str = "auto"
) -> tuple[int, dict[str, torch.Tensor]]:
    """(step slot, live tensors) of machine state ``op_index`` of the step from ``state`` (not modified), replayed."""
    work = _clone(state)
    if op_index == 0:
        return work.step, work.tensors
    for i, (_, live) in enumerate(step_ops(cfg, data, work, matmul), start=1):
        if i == op_index:
            return work.step, dict(live)
    raise IndexError(f"a step has no machine state {op_index}")


def open_chunk(tensor: torch.Tensor, chunk: int) -> tuple[bytes, list[bytes], int]:
    """(leaf data, inclusion proof, leaf count) of chunk ``chunk`` (0-based, after the header leaf)."""
    leaves = commit.tensor_leaves(tensor)
    return leaves[chunk + 1], merkle.proof(leaves, chunk + 1), len(leaves)


def open_slot(values: list[bytes], slot: int) -> tuple[bytes, list[bytes], int]:
    """(leaf data, inclusion proof, leaf count) of slot ``slot`` of a machine state in its root."""
    leaves = commit.machine_leaves(values)
    return leaves[slot], merkle.proof(leaves, slot), len(leaves)
