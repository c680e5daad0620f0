"""The challenger agent (verifier or whistleblower): re-executes windows of other solvers' traces with the exact
runtime, disputes the first wrong one it finds and plays the game to its end; claims what it wins.

To check window w it starts from the solver's checkpoint of window w-1 when that checkpoint is in the store and
matches its leaf (so the game's agreed start is that leaf); when the checkpoint is withheld it recomputes from the
last state it has (at worst the initial state) and disputes the first window it disagrees with.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trainyard import merkle
from trainyard import runtime as rt
from trainyard.challenger import logic
from trainyard.challenger.memory import ChallengerMemory, Kind
from trainyard.dispute.client import DisputeClient, TraceLeaf, open_leaf, step_once
from trainyard.dispute.oracle import ExactOracle
from trainyard.errors import StoreError, TrainyardError
from trainyard.jobs import JobState, JobView
from trainyard.market import Market
from trainyard.pool import PoolClient
from trainyard.runtime import commit
from trainyard.solver.agent import load_job
from trainyard.spec_core import SpecCore, core_from
from trainyard.store import ContentStore
from trainyard.threads import steps_per_second

log = logging.getLogger("trainyard.challenger")


@dataclass
class _Job:
    cfg: Any
    data: Any
    core: SpecCore
    oracle: ExactOracle
    verified_upto: int = 0  # windows [0, verified_upto) agree with the honest computation from the initial state


@dataclass(frozen=True)
class Activity:
    """What one tick did: windows checked, games opened, moves made, wei claimed."""

    checked: int = 0
    opened: int = 0
    moves: int = 0
    claimed: int = 0

    def __bool__(self) -> bool:
        return bool(self.checked or self.opened or self.moves or self.claimed)


class ChallengerAgent:
    def __init__(
        self,
        market: Market,
        store: ContentStore,
        memory: ChallengerMemory,
        policy: logic.ChallengerPolicy,
        *,
        name: str = "verifier",
        oracle_factory: Callable[[Any, Any], ExactOracle] | None = None,
        pool: bool = False,
    ) -> None:
        """``oracle_factory`` replaces the exact runtime (tests: a challenger that computes wrongly). ``pool``: join
        the verifier pool, verify the jobs it is drawn for (the windows the draw's seed samples) and approve them."""
        self.market, self.store, self.memory, self.policy, self.name = market, store, memory, policy, name
        self.pool = PoolClient(market.chain) if pool else None
        self.games = DisputeClient(market.chain)
        self.me = market.chain.address
        self.oracle_factory = oracle_factory
        self._jobs: dict[int, _Job | None] = {}
        # job ids and game ids are numbered independently on chain: one set each (job 1 is not game 1)
        self._done_jobs: set[int] = memory.finished(Kind.JOB)
        self._done_games: set[int] = memory.finished(Kind.GAME)
        self._discovered = False
        self._defending: set[int] = set()  # games against this agent's approvals whose agreed start is loaded
        self._reader: PoolClient | None = self.pool
        self.failures = 0

    # -- the loop -------------------------------------------------------------------------------------------
    def tick(self) -> Activity:
        checked = opened = moves = 0
        for job_id in range(1, self.market.job_count() + 1):
            if job_id in self._done_jobs:
                continue
            view = self.market.job(job_id)
            if view.state.is_over:
                self._finish(Kind.JOB, job_id)
                continue
            if view.winner.lower() == self.me.lower() or not logic.watchable(view, self.policy):
                continue
            try:
                c, o = self._check(view)
            except TrainyardError as exc:
                self.failures += 1
                log.warning("%s: job %d: %s", self.name, job_id, exc)
                continue
            checked, opened = checked + c, opened + o
        moves = self._play() + self._pool_duties() + self._approval_duties()
        claimed = self._claim() if not (checked or opened or moves) else 0
        return Activity(checked, opened, moves, claimed)

    def run(self, poll_s: float = 2.0, stop: Callable[[], bool] = lambda: False) -> None:
        while not stop():
            if not self.tick():
                time.sleep(poll_s)

    # -- checking -------------------------------------------------------------------------------------------
    def _job(self, view: JobView) -> _Job | None:
        if view.job_id not in self._jobs:
            try:
                _, cfg, data = load_job(self.store, view)
                core = core_from(self.store.get(view.spec_cid), cfg, data)
            except (TrainyardError, ValueError) as exc:
                log.warning("%s: job %d cannot be checked: %s", self.name, view.job_id, exc)
                self._jobs[view.job_id] = None
                return None
            oracle = self.oracle_factory(cfg, data) if self.oracle_factory else ExactOracle(cfg, data)
            self._jobs[view.job_id] = _Job(cfg, data, core, oracle)
        return self._jobs[view.job_id]

    def _finish(self, kind: Kind, id_: int) -> None:
        (self._done_jobs if kind is Kind.JOB else self._done_games).add(id_)
        self.memory.finish(kind, id_)

    def _check(self, view: JobView) -> tuple[int, int]:
        """Check the sampled windows now due; open a game on a wrong one. Returns (windows checked, games opened)."""
        done = self.memory.checked(view.job_id)
        return self._check_windows(view, logic.due(view, self.policy, set(done)))

    def _check_windows(self, view: JobView, todo: list[int]) -> tuple[int, int]:
        if any(j == view.job_id for _, j, _ in self.memory.games()):
            return 0, 0  # one game per job per challenger
        pending = self.memory.pending(view.job_id)
        if pending is not None:  # a challenge that reverted or was dropped: send it again
            return 0, self._dispute(view, pending)
        if not todo:
            return 0, 0
        job = self._job(view)
        if job is None:
            return 0, 0
        trace = self.games.trace(view.job_id)
        c = job.cfg.checkpoint_interval
        for w in todo:
            start_known = w == 0 or self._trust_checkpoint(job, trace, w - 1)
            started = time.monotonic()
            job.oracle.interior_digests(w)  # re-executes the window, keeping each step's digest
            speed = steps_per_second(c, time.monotonic() - started)
            mine = job.oracle.state_root((w + 1) * c)
            ok = mine == trace[w][0]
            log.info("%s: job %d window %d %s (re-executed at %s)", self.name, view.job_id, w,
                     "agrees" if ok else "is WRONG", speed)
            if ok:
                self.memory.record_check(view.job_id, w, True)
                continue
            # a wrong window counts as checked only once its game is open: until then the dispute is retried
            bad = w if start_known else self._first_bad(job, trace, w)
            self.memory.record_pending(view.job_id, bad)
            return len(todo), self._dispute(view, bad, checked=w)
        return len(todo), 0

    def _dispute(self, view: JobView, window: int, checked: int | None = None) -> int:
        """Open the game on a wrong window (the job's pending dispute); 1 if it is open now. A challenge that
        reverts (a commit or a game mined first, a node failure) or is dropped stays pending for the next tick."""
        job = self._job(view)
        if job is None:
            return 0
        game = self._my_game_on(view.job_id)
        if game is None:
            try:
                game = self.games.challenge(view.job_id, job.core, window, self.policy.degree)
            except TrainyardError as exc:
                self.failures += 1
                log.warning("%s: job %d: the challenge of window %d failed, will retry: %s", self.name, view.job_id,
                            window, exc)
                return 0
        self.memory.record_game(game, view.job_id, window)
        self.memory.record_check(view.job_id, window if checked is None else checked, False)
        log.info("%s: opened game %d on job %d window %d", self.name, game, view.job_id, window)
        return 1

    def _my_game_on(self, job_id: int) -> int | None:
        """A game this challenger opened on the job, from the chain (a challenge whose answer was lost may have
        landed)."""
        evs = self.games.chain.events("DisputeGame", "GameOpened", 0, jobId=job_id, challenger=self.me)
        return int(evs[-1]["args"]["gameId"]) if evs else None

    def _trust_checkpoint(self, job: _Job, trace: list[TraceLeaf], w: int) -> bool:
        """Start from the solver's checkpoint of window w when it is available and matches its leaf."""
        root, cid = trace[w].state_root, trace[w].cid
        try:
            state = rt.load_checkpoint(self.store.get(cid))
        except (StoreError, ValueError, KeyError) as exc:
            log.info("%s: checkpoint %s of window %d unavailable (%s): recomputing", self.name, cid, w, exc)
            return False
        if state.root() != root or state.step != (w + 1) * job.cfg.checkpoint_interval:
            log.info("%s: checkpoint of window %d does not match its leaf: recomputing", self.name, w)
            return False
        job.oracle.known(state)
        return True

    def _first_bad(self, job: _Job, trace: list[TraceLeaf], upto: int) -> int:
        """The first window up to ``upto`` whose leaf differs from the computation from the initial state."""
        c = job.cfg.checkpoint_interval
        fresh = self.oracle_factory(job.cfg, job.data) if self.oracle_factory else ExactOracle(job.cfg, job.data)
        for w in range(upto + 1):
            if fresh.state_root((w + 1) * c) != trace[w][0]:
                job.oracle = fresh  # the game's start is then this computation's state
                return w
        return upto

    # -- the verifier pool ----------------------------------------------------------------------------------
    def _pool_duties(self) -> int:
        """Join the pool; draw verifiers for funded jobs; verify and approve the jobs drawn for this agent; settle
        ended jobs. Returns the transactions sent."""
        if self.pool is None:
            return 0
        sent = 0
        try:
            if not self.pool.registered():
                self._free_at_least(self.pool.stake())  # locked for as long as it stays in the draw
                self.pool.register()
                log.info("%s: joined the verifier pool", self.name)
                sent += 1
            for job_id in range(1, self.market.job_count() + 1):
                sent += self._pool_job(job_id)
        except TrainyardError as exc:
            self.failures += 1
            log.warning("%s: verifier pool: %s", self.name, exc)
        return sent

    def _pool_job(self, job_id: int) -> int:
        assert self.pool is not None
        a = self.pool.assignment(job_id)
        if not a.funded or a.settled:
            return 0
        view = self.market.job(job_id)
        if view.state.is_over:
            if not self.pool.can_settle(job_id):  # an approval waits until nobody can challenge it any more
                return 0
            self.pool.settle(job_id)
            return 1
        if view.state not in (JobState.CHALLENGE, JobState.DISPUTED):
            return 0
        if not a.drawn:
            action = self.pool.draw_action(a)
            if action == "request":
                self.pool.request_draw(job_id)
            elif action == "draw":  # the randomness block is mined
                self.pool.draw(job_id)
            elif action == "mine":  # a quiet devnet: nobody else mines the block the draw waits for
                n = self.pool.mine_until_draw(a)
                log.info("%s: job %d: mined %d devnet block(s) so that the draw can go on", self.name, job_id, n)
            else:
                return 0
            return 1
        if a.verifier.lower() != self.me.lower() or a.approved:
            return 0
        return self._verify_assignment(view, a.seed)

    def _verify_assignment(self, view: JobView, seed: bytes) -> int:
        """Re-execute the windows the draw samples; approve with the digests the approval must open (a game is
        opened instead if a window is wrong)."""
        assert self.pool is not None
        job = self._job(view)
        if job is None:
            return 0
        samples = self.pool.samples(view.job_id, view.num_windows, job.cfg.checkpoint_interval)
        windows = sorted({w for w, _ in samples})
        done = self.memory.checked(view.job_id)
        self._check_windows(view, [w for w in windows if w not in done])
        done = self.memory.checked(view.job_id)
        if not all(done.get(w) is True for w in windows) or not all(done.values()):
            return 0  # never approve a job with a window this agent found wrong, sampled or not
        trace = self.games.trace(view.job_id)
        openings = []
        for w, j in samples:
            if w > 0:
                self._trust_checkpoint(job, trace, w - 1)
            digests = job.oracle.interior_digests(w)
            if commit.interior_root(digests) != trace[w].interior:
                log.warning("%s: job %d window %d: the solver's interior root is not the re-executed one; no approval",
                            self.name, view.job_id, w)
                return 0
            openings.append((*open_leaf(trace, w), digests[j], merkle.proof(commit.interior_leaves(digests), j)))
        closes = self.pool.approval_deadline(view.job_id)
        if self.games.chain.now() >= closes:  # too late: the assignment lapses (the fee goes back to the submitter)
            log.warning("%s: job %d: approvals closed at %d; not approving", self.name, view.job_id, closes)
            return 0
        self._free_at_least(self.pool.stake())  # an approval locks a stake of its own until the job is settled
        self.pool.approve(view.job_id, job.core.abi_tuple(), openings)
        log.info("%s: approved job %d (re-executed windows %s)", self.name, view.job_id, windows)
        return 1

    def _free_at_least(self, amount: int) -> None:
        need = amount - self.market.stake_info().free
        if need > 0:
            self.market.deposit(need)

    # -- approvals: challenged when wrong, defended when one's own --------------------------------------------
    def _approval_duties(self) -> int:
        """Open a game against the pool approval of each window this agent disputes; defend the windows its own
        approvals opened. Returns the transactions sent."""
        try:
            if self._reader is None:
                self._reader = PoolClient(self.market.chain)
        except TrainyardError:  # a deployment without the pool
            return 0
        return self._challenge_approvals(self._reader) + self._defend_approvals()

    def _challenge_approvals(self, reader: PoolClient) -> int:
        """A window this agent disputes (it re-executed it: it is wrong) that a pool approval opened was vouched for
        by that approver: a game against the approval burns its stake when the approver cannot defend the window.
        Sent while the challenge period lasts, whatever became of the job (a cheater forfeiting its own games on
        time does not shield its approver)."""
        sent = 0
        mine = self.memory.games()
        try:
            challenged = {(j, w) for g, j, w in mine if self.games.is_approval(g)}
            for game_id, job_id, window in mine:
                if (job_id, window) in challenged or game_id in self._done_games or self.games.is_approval(game_id):
                    continue
                view = self.market.job(job_id)
                if view.result_at == 0 or self.market.chain.now() >= view.result_at + view.challenge_period:
                    continue
                approver = reader.approver_of(job_id, window)
                job = self._job(view)
                if approver is None or approver.lower() == self.me.lower() or job is None:
                    continue
                gid = self.games.challenge_approval(job_id, job.core, window, self.policy.degree)
                self.memory.record_game(gid, job_id, window)
                challenged.add((job_id, window))
                log.info("%s: opened game %d against %s's approval of job %d window %d", self.name, gid, approver,
                         job_id, window)
                sent += 1
        except TrainyardError as exc:
            self.failures += 1
            log.warning("%s: challenging an approval: %s", self.name, exc)
        return sent

    def _defend_approvals(self) -> int:
        """Play the defender's side of every game against this agent's approvals, with its own re-execution."""
        moves = 0
        for game_id, job_id in self.games.approval_games_against(self.me):
            if game_id in self._done_games:
                continue
            try:
                view = self.games.view(game_id)
                if view.phase.over:
                    self._finish(Kind.GAME, game_id)
                    continue
                job = self._job(self.market.job(job_id))
                if job is None:
                    continue
                if game_id not in self._defending:  # the game's agreed start: the solver's checkpoint of window-1
                    if view.window > 0:
                        self._trust_checkpoint(job, self.games.trace(job_id), view.window - 1)
                    self._defending.add(game_id)
                if step_once(self.games, "solver", job.oracle, game_id, job.core) is not None:
                    moves += 1
            except TrainyardError as exc:
                self.failures += 1
                log.warning("%s: defending game %d: %s", self.name, game_id, exc)
        return moves

    # -- games and money ------------------------------------------------------------------------------------
    def _play(self) -> int:
        moves = 0
        if not self._discovered:  # a game opened just before a crash, not yet recorded: it is on chain
            known = {g for g, _, _ in self.memory.games()}
            for ev in self.games.chain.events("DisputeGame", "GameOpened", 0, challenger=self.me):
                a = ev["args"]
                if int(a["gameId"]) not in known:
                    self.memory.record_game(int(a["gameId"]), int(a["jobId"]), int(a["window"]))
                    log.info("%s: found its game %d on job %d after a restart", self.name, a["gameId"], a["jobId"])
            self._discovered = True
        for game_id, job_id, window in self.memory.games():
            if game_id in self._done_games:
                continue
            job = self._jobs.get(job_id)
            if job is None:  # a restarted agent: rebuild the game's agreed start
                job = self._job(self.market.job(job_id))
                if job is None:
                    continue
                if window > 0:
                    self._trust_checkpoint(job, self.games.trace(job_id), window - 1)
            try:
                if self.games.view(game_id).phase.over:
                    self._finish(Kind.GAME, game_id)
                    continue
                if step_once(self.games, "challenger", job.oracle, game_id, job.core) is not None:
                    moves += 1
            except TrainyardError as exc:
                self.failures += 1
                log.warning("%s: game %d: %s", self.name, game_id, exc)
        return moves

    def _claim(self) -> int:
        got = 0
        try:
            got += self.games.claim()
            got += self.market.claim()
            if self.pool is not None:
                got += self.pool.claim()
        except TrainyardError as exc:
            log.warning("%s: claim failed: %s", self.name, exc)
        if got:
            log.info("%s: claimed %g ETH", self.name, got / 10**18)
        return got
