"""The dispute game's decisions, for both parties: what to send next, from the game as it stands on chain, what the
other party last posted and what this party computes (its :class:`~trainyard.dispute.oracle.ExactOracle`).

No chain here: :mod:`trainyard.dispute.client` reads the game and sends the move.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from trainyard.dispute import witness
from trainyard.dispute.oracle import ExactOracle
from trainyard.runtime.optrace import op_schedule


class Phase(IntEnum):
    NONE = 0
    STEPS = 1
    OPS = 2
    REVEAL = 3
    NAME_CHUNK = 4
    REVEAL_CHUNK = 5
    PROVE = 6
    SOLVER_WON = 7
    CHALLENGER_WON = 8
    CLOSED = 9

    @property
    def over(self) -> bool:
        return self >= Phase.SOLVER_WON


@dataclass(frozen=True)
class GameView:
    game_id: int
    job_id: int
    challenger: str
    solver: str
    phase: Phase
    solver_turn: bool
    degree: int
    window: int
    lo: int
    hi: int
    step: int
    out_index: int
    chunk: int
    deadline: int  # last second the party to move may move
    now: int
    approval: bool = False  # a game against a pool approval: `solver` is the approver, who defends the window


@dataclass(frozen=True)
class Posted:
    """What the other party last sent, read from the game's events."""

    roots: list[bytes] = field(default_factory=list)
    next_values: list[bytes] = field(default_factory=list)
    output_hashes: list[list[bytes]] = field(default_factory=list)
    chunk: bytes = b""


# -- moves --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PostRoots:
    roots: list[bytes]


@dataclass(frozen=True)
class Pick:
    roots: list[bytes]
    segment: int


@dataclass(frozen=True)
class RevealOp:
    prev: list[bytes]
    next: list[bytes]
    output_hashes: list[list[bytes]]


@dataclass(frozen=True)
class NameChunk:
    out_index: int
    chunk: int
    leaf_hash: bytes
    proof: list[bytes]


@dataclass(frozen=True)
class RevealChunk:
    data: bytes


@dataclass(frozen=True)
class ProveElement:
    chunk: bytes
    element: int
    prev: list[bytes]
    inputs: list[tuple[list[int], list[bytes], list[list[bytes]]]]
    row: tuple[int, int, bytes, list[bytes]]


@dataclass(frozen=True)
class Timeout:
    pass


@dataclass(frozen=True)
class Close:
    """Close a live game whose job is decided (anyone may; it pays the challenger its bond and pot share)."""


Move = PostRoots | Pick | RevealOp | NameChunk | RevealChunk | ProveElement | Timeout | Close


def must_close(view: GameView, job_decided: bool) -> bool:
    """A live game of a job that is already decided (slashed by another game or by the training timeout) can only be
    closed: every party's next action on it, the solver's included (the market keeps the job open until it is)."""
    return job_decided and not view.phase.over and not view.approval  # an approval's game is always played out


def points(lo: int, hi: int, degree: int) -> list[int]:
    """The k - 1 inner points the solver posts roots at, k = min(degree, hi - lo): lo + (hi - lo)·j // k."""
    k = min(degree, hi - lo)
    return [lo + (hi - lo) * j // k for j in range(1, k)]


def first_disagreement(theirs: list[bytes], mine: list[bytes]) -> int:
    """The first segment whose end this party disputes: the index of the first differing root, or the last
    segment (whose end is the disputed root already on chain) when all posted roots agree."""
    for j, (a, b) in enumerate(zip(theirs, mine, strict=False)):
        if a != b:
            return j
    return len(theirs)


def first_bad_window(
    claimed: list[bytes], oracle: ExactOracle, interval: int, windows: list[int] | None = None
) -> int | None:
    """The first window (of ``windows``, default all) whose claimed state root differs from the oracle's."""
    for w in windows if windows is not None else range(len(claimed)):
        if claimed[w] != oracle.state_root((w + 1) * interval):
            return w
    return None


def _roots(view: GameView, oracle: ExactOracle) -> list[bytes]:
    pts = points(view.lo, view.hi, view.degree)
    if view.phase == Phase.STEPS:
        return [oracle.state_root(p) for p in pts]
    return [oracle.machine_root(view.step, p) for p in pts]


def solver_move(view: GameView, oracle: ExactOracle) -> Move | None:
    """The solver's next move when it is its turn (None otherwise)."""
    if view.phase.over:
        return None
    if not view.solver_turn:
        return Timeout() if view.now > view.deadline else None
    if view.phase in (Phase.STEPS, Phase.OPS):
        return PostRoots(_roots(view, oracle))
    op = op_schedule(oracle.n_layers)[view.hi - 1]
    momentum = oracle.cfg.momentum_fixed != 0
    if view.phase == Phase.REVEAL:
        prev = oracle.machine_values(view.step, view.hi - 1)
        _, live = oracle.machine(view.step, view.hi)
        nxt = oracle.machine_values(view.step, view.hi)
        hashes = [
            witness.tensor_leaf_hashes(live[name]) for name in witness.output_names(op, oracle.n_layers, momentum)
        ]
        return RevealOp(prev, nxt, hashes)
    if view.phase == Phase.REVEAL_CHUNK:
        _, live = oracle.machine(view.step, view.hi)
        name = witness.output_names(op, oracle.n_layers, momentum)[view.out_index]
        return RevealChunk(witness.chunk_data(live[name], view.chunk))
    return None


def challenger_move(view: GameView, oracle: ExactOracle, posted: Posted) -> Move | None:
    """The challenger's next move when it is its turn (None otherwise)."""
    if view.phase.over:
        return None
    if view.solver_turn:
        return Timeout() if view.now > view.deadline else None
    if view.phase in (Phase.STEPS, Phase.OPS):
        return Pick(posted.roots, first_disagreement(posted.roots, _roots(view, oracle)))
    op = op_schedule(oracle.n_layers)[view.hi - 1]
    momentum = oracle.cfg.momentum_fixed != 0
    names = witness.output_names(op, oracle.n_layers, momentum)
    _, live = oracle.machine(view.step, view.hi)
    if view.phase == Phase.NAME_CHUNK:
        for t, name in enumerate(names):
            mine = witness.tensor_leaf_hashes(live[name])
            theirs = posted.output_hashes[t]
            if mine != theirs:
                c = witness.first_difference(mine, theirs)
                _, _, proof = witness.name_chunk_args(posted.output_hashes, t, c)
                return NameChunk(t, c, theirs[c + 1], proof)
        return None  # nothing differs: this party was wrong to dispute; its clock runs out
    if view.phase == Phase.PROVE:
        mine_chunk = witness.chunk_data(live[names[view.out_index]], view.chunk)
        e = witness.differing_element(witness.chunk_values(mine_chunk), witness.chunk_values(posted.chunk))
        prev_step, prev_live = oracle.machine(view.step, view.hi - 1)
        args = witness.prove_element_args(
            oracle.cfg, oracle.data, prev_step, prev_live, op, view.out_index, view.chunk, e
        )
        return ProveElement(posted.chunk, e, args["prev_values"], args["inputs"], args["row"])
    return None
