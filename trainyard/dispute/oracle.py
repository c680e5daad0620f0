"""What a party of a dispute believes the training computes: states at any step, machine states at any op.

:class:`ExactOracle` is the honest computation (the exact runtime, from the initial state or from checkpoints the
party trusts). A solver's agent trains through its oracle and answers the game from the same oracle, so an agent
that trains wrongly also argues wrongly; the adversarial tests give solvers cheating oracles (a configuration of
their own, or :class:`Tamper`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import torch

from trainyard.runtime import commit
from trainyard.runtime.data import Dataset
from trainyard.runtime.model import State, TrainConfig, init_state, step, step_ops
from trainyard.runtime.optrace import op_count

Live = dict[str, torch.Tensor]


def _clone(state: State) -> State:
    return State(state.step, state.layers, {k: v.clone() for k, v in state.tensors.items()})


@dataclass(frozen=True)
class Tamper:
    """A cheating solver's change to its computation: after op ``op`` (1..N) of step ``step`` (the step from state
    ``step`` to ``step + 1``), ``fn(live, start)`` changes the live tensors (``start``: the tensors at the start of
    the step). Later ops compute from the changed tensors, so the change propagates as real training would."""

    step: int
    op: int
    fn: Callable[[Live, Live], None]


class ExactOracle:
    """States by exact training from the nearest known state below (cached); machine states by replaying a step.

    ``cfg`` is the configuration this party trains with (a cheater's may differ from the job's); ``tampers`` are
    state changes it makes on the way. ``known`` adds states the party trusts (checkpoints it fetched and checked).
    """

    def __init__(self, cfg: TrainConfig, data: Dataset, tampers: tuple[Tamper, ...] = (), cache: int = 64) -> None:
        self.cfg, self.data = cfg, data
        self.tampers: dict[int, list[Tamper]] = {}
        for t in tampers:
            self.tampers.setdefault(t.step, []).append(t)
        self.n_layers = len(cfg.layers) - 1
        self.n_ops = op_count(self.n_layers)
        self._pinned: dict[int, State] = {0: init_state(cfg, data)}
        self._lru: OrderedDict[int, State] = OrderedDict()
        self._interior: dict[int, list[bytes]] = {}
        self._cache = cache

    def known(self, state: State) -> None:
        """Trust ``state`` (e.g. a checkpoint whose root matched); later states are trained from it."""
        self._pinned[state.step] = _clone(state)
        self._interior = {
            w: d for w, d in self._interior.items() if (w + 1) * self.cfg.checkpoint_interval <= state.step
        }

    def state(self, at: int) -> State:
        """The state after ``at`` steps (a copy the caller may keep)."""
        hit = self._pinned.get(at) or self._lru.get(at)
        if hit is not None:
            return _clone(hit)
        base = max([s for s in self._pinned if s <= at] + [s for s in self._lru if s <= at])
        work = _clone(self._pinned.get(base) or self._lru[base])
        while work.step < at:
            self._advance(work)
        self._remember(at, work)
        return _clone(work)

    def _advance(self, work: State) -> None:
        """One step of this party's computation, in place."""
        if work.step in self.tampers:
            self._run(work, self.n_ops)
        else:
            step(self.cfg, self.data, work)

    def interior_root(self, window: int) -> bytes:
        """Root of the digests of the states after each step of ``window`` (the trace leaf's interior root)."""
        return commit.interior_root(self.interior_digests(window))

    def interior_digests(self, window: int) -> list[bytes]:
        hit = self._interior.get(window)
        if hit is None:
            c = self.cfg.checkpoint_interval
            stride = commit.interior_stride(c)
            work = self.state(window * c)
            hit = []
            for k in range(1, c + 1):
                self._advance(work)
                if k % stride == 0:
                    hit.append(commit.state_digest(work.step, work.tensors))
            self._interior[window] = hit
            self._remember(work.step, work)
        return hit

    def state_root(self, at: int) -> bytes:
        return self.state(at).root()

    def machine(self, at: int, op: int) -> tuple[int, Live]:
        """(step slot, live tensors) after op ``op`` (0..N) of step ``at``, as this party computes it."""
        work = self.state(at)
        if op == 0:
            return work.step, work.tensors
        live = self._run(work, op)
        return work.step, dict(live)

    def _run(self, work: State, upto: int) -> Live:
        """Run the ops of one step on ``work`` up to op ``upto``, with this party's tampering; the live tensors."""
        start = dict(work.tensors)
        tampers = self.tampers.get(work.step, [])
        for i, (_, live) in enumerate(step_ops(self.cfg, self.data, work), start=1):
            for t in tampers:
                if t.op == i:
                    t.fn(live, start)
            if i == upto:
                return live
        raise IndexError(f"a step has no machine state {upto}")

    def machine_values(self, at: int, op: int) -> list[bytes]:
        step_slot, live = self.machine(at, op)
        return commit.machine_values(step_slot, live, self.n_layers)

    def machine_root(self, at: int, op: int) -> bytes:
        return commit.machine_root(self.machine_values(at, op))

    def _remember(self, at: int, state: State) -> None:
        if self.cfg.checkpoint_interval and at % self.cfg.checkpoint_interval == 0:
            self._pinned[at] = _clone(state)
            return
        self._lru[at] = _clone(state)
        self._lru.move_to_end(at)
        while len(self._lru) > self._cache:
            self._lru.popitem(last=False)
