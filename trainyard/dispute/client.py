"""Typed calls to DisputeGame over :class:`~trainyard.chain.Chain`, and :func:`play`, the loop every party runs."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

from eth_utils import to_checksum_address
from web3.logs import DISCARD

from trainyard import merkle
from trainyard.chain import Chain
from trainyard.dispute import logic
from trainyard.dispute.logic import GameView, Move, Phase, Posted
from trainyard.dispute.oracle import ExactOracle
from trainyard.errors import ContractError
from trainyard.jobs import JobState
from trainyard.runtime import commit
from trainyard.spec_core import SpecCore

log = logging.getLogger("trainyard.dispute")


class TraceLeaf(NamedTuple):
    state_root: bytes
    cid: str
    interior: bytes


def open_leaf(trace: list[TraceLeaf], w: int) -> tuple[bytes, bytes, bytes, list[bytes]]:
    """(state root, sha256(CID), interior root, inclusion proof) of leaf ``w``: the contracts' Leaf struct."""
    leaves = [commit.trace_leaf(i, t.state_root, t.cid, t.interior) for i, t in enumerate(trace)]
    t = trace[w]
    return t.state_root, hashlib.sha256(t.cid.encode()).digest(), t.interior, merkle.proof(leaves, w)


class DisputeClient:
    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.game_contract = chain.contract("DisputeGame")
        self.market = chain.contract("JobMarket")

    # -- reads ----------------------------------------------------------------------------------------------
    def view(self, game_id: int) -> GameView:
        g = self.chain.call(self.game_contract.functions.game(game_id))
        _mover, deadline = self.chain.call(self.game_contract.functions.deadline(game_id))
        (challenger, _last, _st, phase, solver_turn, degree, out_index, _outs, solver, _ct, window, _oc, job_id, lo, hi,
         step, _bond, chunk, *_rest) = g
        return GameView(game_id, int(job_id), str(challenger), str(solver), Phase(int(phase)), bool(solver_turn),
                        int(degree), int(window), int(lo), int(hi), int(step), int(out_index), int(chunk),
                        int(deadline), self.chain.now(), self.is_approval(game_id))

    def is_approval(self, game_id: int) -> bool:
        """Whether the game challenges a pool approval (its defender is the approver, not the job's solver)."""
        return bool(self.chain.call(self.game_contract.functions.approvalGame(game_id)))

    def approval_games_against(self, approver: str) -> list[tuple[int, int]]:
        """(game, job) of every game opened against ``approver``'s approvals."""
        evs = self.chain.events("DisputeGame", "ApprovalChallenged", 0, approver=to_checksum_address(approver))
        return [(int(e["args"]["gameId"]), int(e["args"]["jobId"])) for e in evs]

    def approver_lost(self, job_id: int) -> bool:
        return bool(self.chain.call(self.game_contract.functions.approverLost(job_id)))

    def raw(self, game_id: int) -> dict[str, Any]:
        fn = self.game_contract.functions.game(game_id)
        comps = fn.abi["outputs"][0]["components"]
        return {c["name"]: v for c, v in zip(comps, self.chain.call(fn), strict=True)}

    def posted(self, game_id: int, from_block: int = 0) -> Posted:
        """The latest roots, op reveal and chunk the solver posted in this game."""
        roots = self.chain.events("DisputeGame", "RootsPosted", from_block, gameId=game_id)
        ops = self.chain.events("DisputeGame", "OpRevealed", from_block, gameId=game_id)
        chunks = self.chain.events("DisputeGame", "ChunkRevealed", from_block, gameId=game_id)
        return Posted(
            roots=[bytes(r) for r in roots[-1]["args"]["roots"]] if roots else [],
            next_values=[bytes(v) for v in ops[-1]["args"]["next"]] if ops else [],
            output_hashes=[[bytes(h) for h in hs] for hs in ops[-1]["args"]["outputHashes"]] if ops else [],
            chunk=bytes(chunks[-1]["args"]["data"]) if chunks else b"",
        )

    def live_games(self, job_id: int) -> list[int]:
        """The job's games not yet ended or closed, by id (the contract keeps only their count: ids from events)."""
        return [g for g in self.games_of_job(job_id) if not self.phase(g).over]

    def live_count(self, job_id: int) -> int:
        return int(self.chain.call(self.game_contract.functions.liveCount(job_id)))

    def pot(self, job_id: int) -> tuple[int, int]:
        """(share per game, not yet paid) of the job's slash reward while its games are being closed."""
        share, left = self.chain.call(self.game_contract.functions.pot(job_id))
        return int(share), int(left)

    def phase(self, game_id: int) -> Phase:
        return Phase(int(self.raw(game_id)["phase"]))

    def games_of_job(self, job_id: int) -> list[int]:
        return [int(e["args"]["gameId"]) for e in self.chain.events("DisputeGame", "GameOpened", 0, jobId=job_id)]

    def trace(self, job_id: int) -> list[TraceLeaf]:
        """Every committed window's leaf, from the market's events (the trace as it is now)."""
        evs = sorted(
            self.chain.events("JobMarket", "TraceCommitted", 0, jobId=job_id), key=lambda e: e["args"]["window"]
        )
        return [
            TraceLeaf(bytes(e["args"]["stateRoot"]), str(e["args"]["checkpointCID"]), bytes(e["args"]["interiorRoot"]))
            for e in evs
        ]

    def market_decided(self, job_id: int) -> bool:
        """Whether the job is decided with games possibly still live (slashed: by a game or a training timeout)."""
        return JobState(int(self.chain.call(self.market.functions.state(job_id)))) is JobState.SLASHED

    def bond(self) -> int:
        return int(self.chain.call(self.game_contract.functions.bond()))

    def credit(self, account: str | None = None) -> int:
        return int(
            self.chain.call(self.game_contract.functions.credits(to_checksum_address(account or self.chain.address)))
        )

    # -- writes ---------------------------------------------------------------------------------------------
    def challenge_fn(
        self, job_id: int, core: SpecCore, window: int, degree: int = 2, trace: list[TraceLeaf] | None = None
    ) -> Any:
        """The ``challenge`` call opening leaf ``window``, with proofs made against ``trace`` (default: the trace now)
        and the leaf count they were made against, so that a commit mined first does not void them."""
        trace = self.trace(job_id) if trace is None else trace
        prev = open_leaf(trace, window - 1) if window > 0 else (b"\x00" * 32, b"\x00" * 32, b"\x00" * 32, [])
        return self.game_contract.functions.challenge(
            job_id, core.abi_tuple(), window, len(trace), prev, open_leaf(trace, window), degree
        )

    def challenge(
        self, job_id: int, core: SpecCore, window: int, degree: int = 2, trace: list[TraceLeaf] | None = None
    ) -> int:
        """Open a game on trace leaf ``window`` (leaves rebuilt from the market's events unless ``trace`` is given)."""
        receipt = self.chain.transact(
            self.challenge_fn(job_id, core, window, degree, trace), value=self.bond(), label="challenge"
        )
        (ev,) = self.game_contract.events.GameOpened().process_receipt(receipt, errors=DISCARD)
        return int(ev["args"]["gameId"])

    def challenge_approval(
        self, job_id: int, core: SpecCore, window: int, degree: int = 2, trace: list[TraceLeaf] | None = None
    ) -> int:
        """Open a game against the pool approval that opened ``window`` (its approver defends it)."""
        trace = self.trace(job_id) if trace is None else trace
        prev = open_leaf(trace, window - 1) if window > 0 else (b"\x00" * 32, b"\x00" * 32, b"\x00" * 32, [])
        fn = self.game_contract.functions.challengeApproval(
            job_id, core.abi_tuple(), window, len(trace), prev, open_leaf(trace, window), degree
        )
        receipt = self.chain.transact(fn, value=self.bond(), label="challengeApproval")
        (ev,) = self.game_contract.events.GameOpened().process_receipt(receipt, errors=DISCARD)
        return int(ev["args"]["gameId"])

    def close(self, game_id: int) -> None:
        """Close a live game of a decided job (bond back plus its share of the pot to its challenger)."""
        self.chain.transact(self.game_contract.functions.close(game_id), label="close")

    def move_fn(self, game_id: int, move: Move, core: SpecCore) -> tuple[Any, str]:
        """The contract call making ``move`` in a game, and its label."""
        f = self.game_contract.functions
        match move:
            case logic.PostRoots(roots):
                return f.postRoots(game_id, roots), "postRoots"
            case logic.Pick(roots, segment):
                return f.pick(game_id, roots, segment), "pick"
            case logic.RevealOp(prev, nxt, hashes):
                return f.revealOp(game_id, core.abi_tuple(), prev, nxt, hashes), "revealOp"
            case logic.NameChunk(out_index, chunk, leaf_hash, proof):
                return f.nameChunk(game_id, out_index, chunk, leaf_hash, proof), "nameChunk"
            case logic.RevealChunk(data):
                return f.revealChunk(game_id, data), "revealChunk"
            case logic.ProveElement(chunk, element, prev, inputs, row):
                return f.proveElement(game_id, core.abi_tuple(), (chunk, element, prev, inputs, row)), "proveElement"
            case logic.Timeout():
                return f.timeout(game_id), "timeout"
            case logic.Close():
                return f.close(game_id), "close"
        raise TypeError(f"not a move: {move!r}")

    def send(self, game_id: int, move: Move, core: SpecCore) -> None:
        fn, label = self.move_fn(game_id, move, core)
        self.chain.transact(fn, label=label)

    def claim(self) -> int:
        amount = self.credit()
        if amount:
            self.chain.transact(self.game_contract.functions.claimCredit(), label="claimCredit")
        return amount


def step_once(client: DisputeClient, role: str, oracle: ExactOracle, game_id: int, core: SpecCore) -> Move | None:
    """Make this party's next move in a game, if it has one now; return it. A live game of a decided job is closed
    (:class:`~trainyard.dispute.logic.Close`) whoever's turn it is: that pays its challenger and frees the job."""
    view = client.view(game_id)
    move: Move | None
    if logic.must_close(view, client.market_decided(view.job_id)):
        move = logic.Close()
    elif role == "solver":
        move = logic.solver_move(view, oracle)
    else:
        move = logic.challenger_move(view, oracle, client.posted(game_id))
    if move is None:
        return None
    try:
        client.send(game_id, move, core)
    except ContractError as exc:
        # a party whose computation the contract rejects cannot move; its clock runs out and it loses (a close that
        # fails was beaten to it by another party's)
        log.warning("game %d: the %s cannot %s: %s", game_id, role, type(move).__name__, exc)
        return None
    log.info("game %d: %s %s", game_id, role, type(move).__name__)
    return move


def play(
    parties: list[tuple[DisputeClient, str, ExactOracle]],
    game_id: int,
    core: SpecCore,
    on_move: Callable[[str, Move], None] | None = None,
    max_moves: int = 400,
) -> GameView:
    """Drive a game between in-process parties to its end (tests, the demo and the benchmark)."""
    for _ in range(max_moves):
        moved = False
        for client, role, oracle in parties:
            view = client.view(game_id)
            if view.phase.over:
                return view
            move = step_once(client, role, oracle, game_id, core)
            if move is not None:
                moved = True
                if on_move is not None:
                    on_move(role, move)
        if not moved:
            return parties[0][0].view(game_id)
    raise RuntimeError(f"game {game_id} did not end in {max_moves} moves")
