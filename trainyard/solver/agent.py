"""The solver agent: the thin adapter that reads the chain into a :class:`SolverView`, asks
:func:`~trainyard.solver.logic.next_actions` what to do and does it (transactions, training, the store)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trainyard import runtime as rt
from trainyard.dispute.client import DisputeClient, step_once
from trainyard.dispute.oracle import ExactOracle
from trainyard.errors import TrainyardError
from trainyard.jobs import JobState, JobView
from trainyard.market import Market, bid_commitment
from trainyard.progress import Progress
from trainyard.runtime.commit import interior_stride
from trainyard.solver import logic
from trainyard.solver.memory import SolverMemory
from trainyard.spec import parse_document
from trainyard.spec_core import SpecCore, core_from
from trainyard.store import ContentStore
from trainyard.threads import steps_per_second

log = logging.getLogger("trainyard.solver")


@dataclass
class _Job:
    """What the solver holds in memory for a job it trains: config, data, spec core, the latest state, and the
    oracle it answers disputes from (it knows every checkpoint the solver made)."""

    cfg: Any
    data: Any
    core: SpecCore
    oracle: ExactOracle
    state: Any | None = None


def load_job(store: ContentStore, view: JobView) -> tuple[dict[str, Any], Any, Any]:
    """Fetch and check the spec document and dataset of a job; return (document, TrainConfig, Dataset)."""
    raw = store.get(view.spec_cid)
    doc = parse_document(raw)
    cfg = rt.TrainConfig.from_spec(doc["model"]["layers"], doc["training"])
    data = rt.Dataset.from_npz_bytes(store.get(doc["dataset"]["cid"]))
    rt.validate_config(cfg, data)
    if core_from(raw, cfg, data).spec_hash() != view.spec_hash:
        raise TrainyardError(
            f"job {view.job_id}: the spec at {view.spec_cid} with its data and initial state does not give the spec "
            "hash on chain (a job whose spec core is wrong could not be disputed)"
        )
    if cfg.steps // cfg.checkpoint_interval != view.num_windows:
        raise TrainyardError(
            f"job {view.job_id}: spec has {cfg.steps // cfg.checkpoint_interval} windows, chain says {view.num_windows}"
        )
    return doc, cfg, data


class SolverAgent:
    def __init__(
        self,
        market: Market,
        store: ContentStore,
        memory: SolverMemory,
        policy: logic.SolverPolicy,
        *,
        name: str = "solver",
        show_progress: bool = True,
        oracle_factory: Callable[[Any, Any], ExactOracle] | None = None,
        defend: bool = True,
    ) -> None:
        """``oracle_factory(cfg, data)`` replaces the exact runtime by another computation (the adversarial tests'
        cheating solvers): the agent then trains and argues from that oracle. ``defend=False``: it never answers a
        dispute (an offline or stalling solver)."""
        self.defend = defend
        self.market, self.store, self.memory, self.policy = market, store, memory, policy
        self.oracle_factory = oracle_factory
        self.disputes = DisputeClient(market.chain) if "DisputeGame" in market.chain.addresses else None
        self.name = name
        self.show_progress = show_progress
        self.me = market.chain.address
        self._over: set[int] = set()
        self._jobs: dict[int, _Job] = {}
        self.failures = 0

    # -- reading -------------------------------------------------------------------------------------------
    def _repair_bids(self, jobs: list[JobView]) -> None:
        """Bring the local bid records up to the chain after a crash between a transaction and its record: a mined
        commit whose index was not recorded, a reveal that was mined but not marked. Only bids whose record the
        decisions still read (their job is revealing or awaiting settlement) are looked up, so a tick costs no extra
        chain call otherwise."""
        by_id = {j.job_id: j for j in jobs}
        for job_id, bid in self.memory.bids().items():
            job = by_id.get(job_id)
            if job is None or job.state not in (JobState.REVEALING, JobState.AWAITING_SETTLEMENT):
                continue
            if bid.index < 0:
                mine = bid_commitment(job_id, self.me, bid.price, bid.salt)
                for ev in self.market.chain.events("JobMarket", "BidCommitted", 0, jobId=job_id, bidder=self.me):
                    index = int(ev["args"]["index"])
                    if bytes(self.market.bid(job_id, index)["commitment"]) == mine:
                        self.memory.set_bid_index(job_id, index)
                        log.info("%s: recovered the index of its sealed bid on job %d", self.name, job_id)
            elif not bid.revealed and bool(self.market.bid(job_id, bid.index)["revealed"]):
                self.memory.mark_revealed(job_id)

    def snapshot(self) -> logic.SolverView:
        jobs = []
        bids = self.memory.bids()
        for job_id in range(1, self.market.job_count() + 1):
            if job_id in self._over:
                continue
            view = self.market.job(job_id)
            if view.state.is_over and not logic.releasable(view, bids.get(job_id), self.me):
                self._over.add(job_id)  # read again only while a bid of ours there is still to release
            jobs.append(view)
        self._repair_bids(jobs)
        info = self.market.stake_info(self.me)
        return logic.SolverView(
            now=self.market.chain.now(),
            me=self.me,
            free_stake=info.free,
            locked_stake=info.locked,
            credits=info.credits + (self.disputes.credit(self.me) if self.disputes else 0),
            jobs=tuple(jobs),
            bids=self.memory.bids(),
            inspected=self.memory.inspected(),
            unbonding=info.unbonding,
        )

    # -- acting --------------------------------------------------------------------------------------------
    def tick(self) -> list[logic.Action]:
        """Read, decide, act. Returns the actions taken; a failing action is logged and counted, not fatal."""
        view = self.snapshot()
        done = []
        for action in logic.next_actions(view, self.policy):
            try:
                self._do(action, {j.job_id: j for j in view.jobs})
                done.append(action)
            except TrainyardError as exc:
                self.failures += 1
                log.warning("%s: %s failed: %s", self.name, type(action).__name__, exc)
        done.extend(self._defend(view))
        return done

    def _defend(self, view: logic.SolverView) -> list[Any]:
        """Answer every live dispute game against this solver's jobs (the game's state is all on chain, so a
        restarted agent picks up where it was)."""
        if self.disputes is None or not self.defend:
            return []
        moves: list[Any] = []
        for job in view.jobs:
            if job.state is not JobState.DISPUTED or job.winner.lower() != self.me.lower():
                continue
            j = self._load(job)
            for game_id in self.disputes.live_games(job.job_id):
                try:
                    move = step_once(self.disputes, "solver", j.oracle, game_id, j.core)
                except TrainyardError as exc:
                    self.failures += 1
                    log.warning("%s: game %d: %s", self.name, game_id, exc)
                    continue
                if move is not None:
                    moves.append(move)
        return moves

    def _load(self, view: JobView) -> _Job:
        job = self._jobs.get(view.job_id)
        if job is None:
            _, cfg, data = load_job(self.store, view)
            core = core_from(self.store.get(view.spec_cid), cfg, data)
            oracle = self.oracle_factory(cfg, data) if self.oracle_factory else ExactOracle(cfg, data)
            for _step, _root, cid in self.memory.checkpoints(view.job_id):
                if self.oracle_factory is None:
                    oracle.known(rt.load_checkpoint(self.store.get(cid)))
            job = self._jobs[view.job_id] = _Job(cfg, data, core, oracle)
        return job

    def run(self, poll_s: float = 2.0, stop: Callable[[], bool] = lambda: False) -> None:
        while not stop():
            if not self.tick():
                time.sleep(poll_s)

    def _do(self, action: logic.Action, jobs: dict[int, JobView]) -> None:
        m = self.market
        match action:
            case logic.Deposit(amount):
                m.deposit(amount)
                log.info("%s: deposited %g ETH of stake", self.name, amount / 10**18)
            case logic.Inspect(job_id):
                try:
                    load_job(self.store, jobs[job_id])
                    reason = None
                except (TrainyardError, ValueError) as exc:
                    reason = str(exc)
                self.memory.record_inspection(job_id, reason)
                log.info("%s: job %d %s", self.name, job_id, "is doable" if reason is None else f"skipped: {reason}")
            case logic.CommitBid(job_id, price):
                salt = os.urandom(32)
                self.memory.record_bid(logic.BidRecord(job_id, price, salt))  # before the tx: the salt must survive
                try:
                    index = m.commit_bid(job_id, price, salt)
                except TrainyardError:
                    self.memory.forget_bid(job_id)
                    raise
                self.memory.set_bid_index(job_id, index)
                log.info("%s: sealed bid on job %d", self.name, job_id)
            case logic.RevealBid(job_id, index, price, salt):
                m.reveal_bid(job_id, index, price, salt)
                self.memory.mark_revealed(job_id)
                log.info("%s: revealed its price of %g ETH on job %d", self.name, price / 10**18, job_id)
            case logic.ReleaseBid(job_id, index):
                if not bool(m.bid(job_id, index)["released"]):  # anyone may release it: someone may have already
                    got = m.release_bid(job_id, index)
                    log.info("%s: released its bid on job %d: %g ETH of stake back", self.name, job_id, got / 10**18)
                self.memory.mark_released(job_id)
            case logic.TrainWindow(job_id, window):
                self._train_window(jobs[job_id], window)
            case logic.SubmitResult(job_id):
                _, _, model_cid = self.memory.checkpoints(job_id)[-1]
                m.submit_result(job_id, model_cid)
                self.memory.record_result(job_id, model_cid)
                log.info("%s: submitted the model of job %d (%s)", self.name, job_id, model_cid)
            case logic.Finalize(job_id):
                m.finalize(job_id)
            case logic.Claim():
                got = m.claim() + (self.disputes.claim() if self.disputes else 0)
                log.info("%s: claimed %g ETH", self.name, got / 10**18)

    def _train_window(self, view: JobView, window: int) -> None:
        job = self._load(view)
        done = self.memory.checkpoints(view.job_id)
        if job.state is None or job.state.step != window * job.cfg.checkpoint_interval:
            job.state = self._resume(job, done, window)
        interior = self.memory.interior(view.job_id, window)
        if len(done) > window and interior is not None:  # trained and stored before a crash, not yet committed
            step, root, cid = done[window]
        else:
            c = job.cfg.checkpoint_interval
            bar = (
                Progress(f"{self.name} job {view.job_id} window {window + 1}/{view.num_windows}", c, unit="steps")
                if self.show_progress
                else None
            )
            base = job.state.step
            started = time.monotonic()
            if self.oracle_factory is not None:
                interior = job.oracle.interior_root(window)
                job.state = job.oracle.state(base + c)
            else:
                digests: list[bytes] = []
                stride = interior_stride(c)

                def observe(s: Any) -> None:
                    if (s.step - base) % stride == 0:
                        digests.append(rt.state_digest(s.step, s.tensors))

                job.state = rt.train(
                    job.cfg,
                    job.data,
                    job.state,
                    c,
                    observe=observe,
                    progress=(lambda s: bar.update(s - base)) if bar else None,
                )
                interior = rt.interior_root(digests)
                job.oracle.known(job.state)
            speed = steps_per_second(job.state.step - base, time.monotonic() - started)
            step, root = job.state.step, job.state.root()
            cid = self.store.put(rt.save_checkpoint(job.state))
            self.memory.record_interior(view.job_id, window, interior)
            self.memory.record_checkpoint(view.job_id, window, step, root, cid)
        self.market.commit_trace(view.job_id, root, interior, cid)
        log.info(
            "%s: job %d window %d/%d committed (step %d, trained at %s)",
            self.name, view.job_id, window + 1, view.num_windows, step, speed,
        )

    def _resume(self, job: _Job, done: list[tuple[int, bytes, str]], window: int) -> Any:
        if window == 0:
            return rt.init_state(job.cfg, job.data)
        _step, root, cid = done[window - 1]
        state = rt.load_checkpoint(self.store.get(cid))
        if state.root() != root:
            raise TrainyardError(f"checkpoint {cid} does not match its recorded state root")
        return state
