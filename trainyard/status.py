"""What a person asks about jobs: where a job is, why it waits, what is due; the model when it is done."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from web3.types import EventData

from trainyard.cid import decode as decode_cid
from trainyard.errors import StoreError, TrainyardError
from trainyard.jobs import ZERO_ADDRESS, JobState, JobView
from trainyard.market import Market
from trainyard.spec import parse_document
from trainyard.store import ContentStore

if TYPE_CHECKING:  # the runtime (torch) is imported only by the commands that train
    from trainyard.pool import Assignment
    from trainyard.runtime.model import State

ETH = 10**18


def _eth(wei: int) -> str:
    return f"{wei / ETH:g} ETH"


def duration(seconds: int) -> str:
    """A length of time as a person says it: '45 s', '10 min 0 s', '3 h 5 min', '2 d 4 h'."""
    d = max(0, int(seconds))
    if d < 60:
        return f"{d} s"
    if d < 3600:
        return f"{d // 60} min {d % 60} s"
    if d < 86400:
        return f"{d // 3600} h {d % 3600 // 60} min"
    return f"{d // 86400} d {d % 86400 // 3600} h"


def local_time(t: int) -> str:
    """A Unix time as local date and time (the reader's clock, not UTC)."""
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")


def when(now: int, t: int) -> str:
    """A moment relative to ``now`` and in local time: 'in 7 d 0 h (2026-12-09 14:05)', '5 min 0 s ago (...)'."""
    d = t - now
    at = local_time(t)
    return f"{duration(-d)} ago ({at})" if d <= 0 else f"in {duration(d)} ({at})"




def display_now(chain_time: int, wall_time: int | None = None) -> int:
    """The time the next block will carry, as far as a reader can tell: the latest block's time, or the wall clock
    when that is later (an idle devnet mines no block, so its latest block grows old while deadlines come nearer;
    a devnet whose clock was moved forward is ahead of the wall clock)."""
    return max(chain_time, int(time.time()) if wall_time is None else wall_time)


def held_escrow(job: JobView) -> int:
    """What the market still holds for the job: the maximum price until the auction is settled, the winner's price
    until the job ends, nothing after (paid, refunded or a credit)."""
    if job.state.is_over:
        return 0
    return job.price if job.winner != ZERO_ADDRESS else job.max_price


# event arguments shown in ETH, and those shown as a length of time
_AMOUNTS = {"escrow", "price", "refund", "penalty", "unlocked", "stakePerBid", "amount", "reward", "bond", "maxPrice",
            "fee", "paid", "share"}
_PERIODS = {"bidPeriod", "revealPeriod", "trainPeriod", "challengePeriod"}


def show_arg(name: str, value: Any) -> str:
    """One event argument as a person reads it: amounts in ETH, periods as durations, structs as key=value, bytes as
    hex (never web3's AttributeDict or raw wei)."""
    if isinstance(value, Mapping):
        return "(" + ", ".join(f"{k}={show_arg(k, v)}" for k, v in value.items()) + ")"
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and name in _AMOUNTS:
        return _eth(value)
    if isinstance(value, int) and name in _PERIODS:
        return duration(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show_arg(name, v) for v in value) + "]"
    return str(value)


def spec_summary(doc: Mapping[str, Any]) -> str:
    """name, model and dataset of a job's spec document, in one line."""
    model = doc.get("model")
    model = model if isinstance(model, Mapping) else {}
    layers = model.get("layers")
    widths = "-".join(str(w) for w in layers) if isinstance(layers, list) else "?"
    ds = doc.get("dataset")
    dataset = (ds.get("name") or ds.get("cid")) if isinstance(ds, Mapping) else ds
    return f"{doc.get('name', '?')}: {str(model.get('arch', '?')).upper()} {widths}, dataset {dataset or '?'}"


def why_waiting(job: JobView, now: int, revealed: int, solvers_with_stake: int) -> str:
    """One sentence: what the job waits for and who can move it on. Pure, so it is tested without a chain."""
    s = job.state
    if s is JobState.BIDDING:
        if job.bid_count == 0 and solvers_with_stake == 0:
            return (f"waiting for bids: no solver has {_eth(job.stake_per_bid)} of free stake to lock; "
                    f"bidding closes {when(now, job.bid_deadline)}")
        return f"bid window open: {job.bid_count} sealed bid(s); closes {when(now, job.bid_deadline)}"
    if s is JobState.REVEALING:
        return (f"reveal pending: {revealed} of {job.bid_count} bid(s) revealed; "
                f"reveals close {when(now, job.reveal_deadline)}")
    if s is JobState.AWAITING_SETTLEMENT:
        return ("auction over: anyone may settle it now (`trainyard poke JOB`), and the winner's first commit does; "
                "then each losing bid's stake comes back by releaseBid")
    if s is JobState.TRAINING:
        if job.result_at == 0 and now >= job.train_deadline:
            return "the solver missed its training deadline: `trainyard poke JOB` slashes it and refunds you"
        return (f"training by {job.winner}: {job.leaf_count}/{job.num_windows} checkpoint windows committed; "
                f"deadline {when(now, job.train_deadline)}")
    if s is JobState.CHALLENGE:
        return f"result in; challenge period ends {when(now, job.finalize_at)}, then anyone may finalize"
    if s is JobState.DISPUTED:
        return f"{job.open_disputes} dispute(s) open: payment waits for their outcome"
    if s is JobState.FINALIZABLE:
        return "challenge period over: anyone may finalize (`trainyard poke JOB`)"
    return {
        JobState.FINALIZED: f"done: the solver was paid {_eth(job.price)}; `trainyard fetch JOB` gets the model",
        JobState.CANCELLED: "cancelled: the escrow is a credit of the submitter (`trainyard claim`)",
        JobState.REFUNDED: "no valid bid: the escrow is a credit of the submitter (`trainyard claim`)",
        JobState.SLASHED: (
            "the solver failed and was slashed: the escrow is a credit of the submitter (`trainyard claim`)"
        ),
    }.get(s, "unknown job")


def verification(a: Assignment, job: JobView, block: int, now: int) -> str:
    """One sentence on the job's verification by the pool: funded or not, the draw, the approval, the settlement.
    Pure, so it is tested without a chain."""
    if not a.funded:
        return "verification: not funded (`trainyard submit --verification-fee` pays a verifier drawn from the pool)"
    fee = _eth(a.fee)
    if a.settled:
        paid = a.approved and job.state is JobState.FINALIZED
        to = "was paid to the verifier" if paid else "went back to the submitter"
        return f"verification settled: the {fee} fee {to}"
    if a.approved:
        return (f"verification: approved by {a.verifier} ({_eth(a.locked)} of its stake locked until the job is "
                f"settled); the {fee} fee is paid if the job finalizes")
    if a.drawn:
        closes = job.result_at + job.challenge_period // 2
        if now >= closes:
            return f"verification: {a.verifier} was drawn but did not approve in time; the {fee} fee goes back"
        return f"verification: {a.verifier} drawn; it re-executes and approves {when(now, closes)} at the latest"
    if a.request_block == 0:
        if job.result_at == 0:
            return f"verification: {fee} fee funded; a verifier is drawn from the pool once the result is in"
        return f"verification: {fee} fee funded; anyone may request the draw now (a verifier agent does)"
    if block <= a.request_block:
        return (f"verification: draw requested; it waits for block {a.request_block} to be mined (on a quiet devnet "
                "nothing mines it: any transaction does, or `cast rpc evm_mine`)")
    if a.tries:
        return f"verification: no eligible member among {a.tries} candidates yet; the next draw tries more"
    return "verification: the draw's block is mined: anyone may draw now (a verifier agent does)"


def _verification(market: Market, job: JobView, now: int) -> str | None:
    from trainyard.pool import PoolClient

    try:
        pool = PoolClient(market.chain)
        return verification(pool.assignment(job.job_id), job, pool.block(), now)
    except (TrainyardError, KeyError, ValueError):  # a deployment without the pool
        return None


def _solvers_with_stake(market: Market, amount: int) -> int:
    accounts = {e["args"]["account"] for e in market.chain.events("Staking", "Deposited")}
    free = market.staking.functions.freeStake
    return sum(1 for a in accounts if int(market.chain.call(free(a))) >= amount)


def _revealed(market: Market, job_id: int) -> int:
    return len(market.chain.events("JobMarket", "BidRevealed", jobId=job_id))


def history(market: Market, job_id: int) -> list[tuple[int, str]]:
    """(block, line) for every event of the job, in chain order."""
    out: list[tuple[int, int, str]] = []
    for ev_name in (
        "JobPosted",
        "BidCommitted",
        "BidRevealed",
        "AuctionSettled",
        "BidReleased",
        "TraceCommitted",
        "ResultSubmitted",
        "JobFinalized",
        "TrainingTimedOut",
        "JobCancelled",
        "DisputeOpened",
        "DisputeResolved",
    ):
        try:
            logs = market.chain.events("JobMarket", ev_name, jobId=job_id)
        except (ValueError, AttributeError):  # event not in this ABI
            continue
        for e in logs:
            a = dict(e["args"])
            a.pop("jobId", None)
            shown = ", ".join(f"{k}={show_arg(k, v)}" for k, v in a.items())
            out.append((int(e["blockNumber"]), int(e["logIndex"]), f"{ev_name}({shown})"))
    return [(b, line) for b, _, line in sorted(out)]


def _spec_line(store: ContentStore | None, cid: str) -> str:
    if store is None:
        return f"spec {cid}"
    try:
        return f"{spec_summary(parse_document(store.get(cid)))} (spec {cid})"
    except (StoreError, KeyError, ValueError, TrainyardError):
        return f"spec {cid} (not in this machine's store or gateways)"


def describe_job(market: Market, job_id: int, store: ContentStore | None = None) -> str:
    if not 1 <= job_id <= market.job_count():
        raise TrainyardError(f"there is no job {job_id} (jobs 1..{market.job_count()})")
    job = market.job(job_id)
    now = display_now(market.chain.now())
    solvers = _solvers_with_stake(market, job.stake_per_bid) if job.state is JobState.BIDDING else 0
    lines = [
        f"job {job_id}: {job.state.label}",
        f"  {why_waiting(job, now, _revealed(market, job_id), solvers)}",
        f"  {_spec_line(store, job.spec_cid)}",
        f"  submitter {job.submitter}, maximum price {_eth(job.max_price)}, escrow held now "
        f"{_eth(held_escrow(job))}, stake per bid {_eth(job.stake_per_bid)}",
    ]
    if job.winner != ZERO_ADDRESS:
        paid = "paid" if job.state is JobState.FINALIZED else "to be paid"
        lines.append(f"  winner {job.winner}, {paid} {_eth(job.price)}")
    if job.state not in (JobState.BIDDING, JobState.REVEALING, JobState.AWAITING_SETTLEMENT, JobState.CANCELLED,
                         JobState.REFUNDED):
        line = _verification(market, job, now)
        if line is not None:
            lines.append(f"  {line}")
    if job.state not in (JobState.BIDDING, JobState.REVEALING, JobState.AWAITING_SETTLEMENT, JobState.CANCELLED):
        releasable = job.bid_count - (job.winner != ZERO_ADDRESS)
        released = len(market.chain.events("JobMarket", "BidReleased", jobId=job_id))
        lines.append(
            f"  losing bids released: {released} of {releasable} (releaseBid: anyone may call it; the stake goes to "
            "its bidder, less the reveal penalty for a void bid; an unrevealed bid forfeits its stake)"
        )
    lines.append("  events:")
    lines += [f"    block {b}: {line}" for b, line in history(market, job_id)]
    return "\n".join(lines)


def job_table(market: Market, store: ContentStore | None = None) -> str:
    """One row per job: its state, the escrow the market still holds for it, the price (the maximum until the
    auction is settled), bids, winner and, when the spec is in the store, its name, model and dataset."""
    rows = [f"{'job':>4}  {'state':<20} {'escrow held':>12} {'price':>12} {'bids':>4}  {'winner':<42}  spec"]
    for job_id in range(1, market.job_count() + 1):
        j = market.job(job_id)
        winner = j.winner if j.winner != ZERO_ADDRESS else "-"
        price = _eth(j.price) if j.winner != ZERO_ADDRESS else f"<= {_eth(j.max_price)}"
        spec = _spec_line(store, j.spec_cid)
        rows.append(f"{job_id:>4}  {j.state.label:<20} {_eth(held_escrow(j)):>12} {price:>12} {j.bid_count:>4}  "
                    f"{winner:<42}  {spec}")
    return "\n".join(rows) if len(rows) > 1 else "no jobs yet"


def model_cid(market: Market, job_id: int) -> str:
    logs = market.chain.events("JobMarket", "ResultSubmitted", jobId=job_id)
    if not logs:
        raise TrainyardError(f"job {job_id} has no result yet ({market.job(job_id).state.label})")
    return str(logs[-1]["args"]["modelCID"])


def fetch_model(
    market: Market, store: ContentStore, job_id: int, out: Path | None, recompute: bool = False
) -> list[str]:
    """Write the exact checkpoint and a float ``state_dict`` of the job's model. The file is checked against its CID
    and its state against the trace's last root on chain. When it is missing or does not match, ``recompute``
    trains it again (exact training) from the last published checkpoint that matches its trace leaf, or from the
    initial state, and checks the result against the same root."""
    import torch

    from trainyard import runtime as rt

    cid = model_cid(market, job_id)
    leaves = sorted(market.chain.events("JobMarket", "TraceCommitted", jobId=job_id), key=lambda e: e["args"]["window"])
    final_root = bytes(leaves[-1]["args"]["stateRoot"])
    problem = None
    try:
        decode_cid(cid)
        blob = store.get(cid)  # checked against the CID
        state = rt.load_checkpoint(blob)
        if state.root() != final_root:
            problem = f"the file at {cid} is not the state the trace commits (its root differs)"
    except (ValueError, KeyError, StoreError) as exc:
        problem = f"cannot fetch model {cid}: {exc}"
    how = "verified against its CID and the trace's last root"
    if problem is not None:
        if not recompute:
            raise TrainyardError(
                f"job {job_id}: {problem}; `trainyard fetch {job_id} --recompute` trains it again "
                "from the last published checkpoint that matches the trace (exact training)"
            )
        state, start = _recompute(market, store, job_id, leaves)
        if state.root() != final_root:
            raise TrainyardError(
                f"job {job_id}: exact training does not give the trace's last root: the solver's trace "
                "is wrong and the job should be disputed"
            )
        blob = rt.save_checkpoint(state)
        how = f"recomputed from {start} and verified against the trace's last root"
    out = out or Path(f"job-{job_id}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.ckpt").write_bytes(blob)
    torch.save(rt.export_float_state_dict(state), out / "model.pt")
    return [
        f"model of job {job_id} ({how})",
        f"  {out / 'model.ckpt'}: exact int64 checkpoint",
        f"  {out / 'model.pt'}: float state_dict for torch.nn.Sequential(Linear, ReLU, ...)",
    ]


def _recompute(market: Market, store: ContentStore, job_id: int, leaves: list[EventData]) -> tuple[State, str]:
    from trainyard import runtime as rt
    from trainyard.solver.agent import load_job

    _, cfg, data = load_job(store, market.job(job_id))
    state, start = rt.init_state(cfg, data), "the initial state"
    for e in reversed(leaves[:-1]):
        try:
            ckpt = rt.load_checkpoint(store.get(e["args"]["checkpointCID"]))
        except (ValueError, KeyError, StoreError):
            continue
        if ckpt.root() == bytes(e["args"]["stateRoot"]):
            state, start = ckpt, f"the checkpoint of window {e['args']['window']}"
            break
    return rt.train(cfg, data, state, cfg.steps - state.step), start


def poke(market: Market, job_id: int) -> str:
    """Do whatever is due for the job (settle, finalize, time out a late solver) or say when it will be."""
    job = market.job(job_id)
    now = display_now(market.chain.now())
    if job.state is JobState.AWAITING_SETTLEMENT:
        market.settle(job_id)
        return f"job {job_id}: auction settled ({market.job(job_id).state.label})"
    if job.state is JobState.FINALIZABLE:
        market.finalize(job_id)
        return f"job {job_id}: finalized; the solver's payment is a credit it claims"
    if job.state is JobState.TRAINING and job.result_at == 0 and now >= job.train_deadline:
        market.timeout_training(job_id)
        return f"job {job_id}: training deadline missed; solver slashed, escrow refunded to the submitter as a credit"
    return f"job {job_id}: nothing due now; {why_waiting(job, now, _revealed(market, job_id), 1)}"
