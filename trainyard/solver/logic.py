"""The solver's decisions: a pure function from what it sees to what it does next.

No I/O here: :func:`next_actions` is unit-tested without a chain; :mod:`trainyard.solver.agent` reads the chain
and the local database into a :class:`SolverView` and carries the actions out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trainyard.jobs import JobState, JobView

# states in which a job's auction is settled (or settles on the way), so a bid that did not win can be released
_RELEASABLE = frozenset({JobState.AWAITING_SETTLEMENT, JobState.TRAINING, JobState.CHALLENGE, JobState.DISPUTED,
                         JobState.FINALIZABLE, JobState.FINALIZED, JobState.REFUNDED, JobState.SLASHED})


@dataclass(frozen=True)
class SolverPolicy:
    """What a solver is willing to do. In a second-price auction bidding one's true cost is the best strategy."""

    price: int  # wei asked for a job
    target_stake: int  # free + locked stake the solver keeps deposited
    # Periods a solver can meet and accepts: a submitter can post a job whose reveal or training period is too short
    # to meet (then take the reveal penalty or the slash of whoever wins), or whose periods lock the bid's stake for
    # years. Set min_train_period to what this machine needs to train the jobs it takes.
    min_reveal_period: int = 300
    min_train_period: int = 600
    max_lock: int = 90 * 24 * 3600  # from now to the end of the challenge period if it wins


def acceptable_periods(job: JobView, now: int, policy: SolverPolicy) -> bool:
    """Whether the job's periods leave this solver time to reveal and to train, and do not lock its stake for
    longer than it accepts (a trap a submitter could set for honest solvers)."""
    reveal = job.reveal_deadline - job.bid_deadline
    train = job.train_deadline - job.reveal_deadline
    locked_until = job.train_deadline + job.challenge_period
    return (
        reveal >= policy.min_reveal_period
        and train >= policy.min_train_period
        and locked_until - now <= policy.max_lock
    )


@dataclass(frozen=True)
class BidRecord:
    job_id: int
    price: int
    salt: bytes
    index: int = -1  # the bid's index on chain; -1 until the commit is mined
    revealed: bool = False
    released: bool = False  # its stake came back (releaseBid) after the auction was settled


@dataclass(frozen=True)
class SolverView:
    now: int
    me: str
    free_stake: int
    locked_stake: int
    credits: int  # claimable in the market and in staking together
    jobs: tuple[JobView, ...]
    bids: dict[int, BidRecord] = field(default_factory=dict)
    inspected: dict[int, str | None] = field(default_factory=dict)  # job -> None if doable, else why not
    unbonding: int = 0  # stake the operator asked to withdraw (`trainyard stake withdraw AMOUNT`)


# -- actions ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deposit:
    amount: int


@dataclass(frozen=True)
class Inspect:
    """Fetch the spec and data, decide whether this solver can do the job."""

    job_id: int


@dataclass(frozen=True)
class CommitBid:
    job_id: int
    price: int


@dataclass(frozen=True)
class RevealBid:
    job_id: int
    index: int
    price: int
    salt: bytes


@dataclass(frozen=True)
class ReleaseBid:
    """Take back the stake of one's own bid that did not win (settling the auction on the way if nobody has)."""

    job_id: int
    index: int


@dataclass(frozen=True)
class TrainWindow:
    job_id: int
    window: int  # 0-based index of the checkpoint window to train and commit


@dataclass(frozen=True)
class SubmitResult:
    job_id: int


@dataclass(frozen=True)
class Finalize:
    job_id: int


@dataclass(frozen=True)
class Claim:
    pass


Action = Deposit | Inspect | CommitBid | RevealBid | ReleaseBid | TrainWindow | SubmitResult | Finalize | Claim


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def releasable(job: JobView, bid: BidRecord | None, me: str) -> bool:
    """Whether ``bid`` is one's own mined, unreleased bid on a job whose auction it did not win: once the reveal
    period is over, any bid but the leader's (the winner's once settled) gets its stake back by ``releaseBid``."""
    if bid is None or bid.index < 0 or bid.released or job.state not in _RELEASABLE:
        return False
    if job.state is JobState.AWAITING_SETTLEMENT:
        return not (bid.revealed and _same(job.leader, me))
    return not _same(job.winner, me)


def next_actions(view: SolverView, policy: SolverPolicy) -> list[Action]:
    """Everything the solver should do now, in order; at most one action per job."""
    actions: list[Action] = []
    free = view.free_stake
    held = view.free_stake + view.locked_stake
    # a withdrawal the operator requested wins over the target: the agent does not deposit the stake back
    if held < policy.target_stake and view.unbonding == 0:
        actions.append(Deposit(policy.target_stake - held))
        free += policy.target_stake - held
    for job in view.jobs:
        bid = view.bids.get(job.job_id)
        mine = _same(job.winner, view.me)
        if job.state is JobState.BIDDING and bid is None:
            if _same(job.submitter, view.me) or view.now >= job.bid_deadline:
                continue
            if not acceptable_periods(job, view.now, policy):
                continue
            if job.job_id not in view.inspected:
                actions.append(Inspect(job.job_id))
            elif view.inspected[job.job_id] is None and policy.price <= job.max_price and free >= job.stake_per_bid:
                actions.append(CommitBid(job.job_id, policy.price))
                free -= job.stake_per_bid
        elif job.state is JobState.REVEALING and bid is not None and not bid.revealed and bid.index >= 0:
            actions.append(RevealBid(job.job_id, bid.index, bid.price, bid.salt))
        elif releasable(job, bid, view.me):
            # a bid that did not win: its stake comes back only by releaseBid (which settles on the way), less the
            # reveal penalty if it was never revealed
            assert bid is not None
            actions.append(ReleaseBid(job.job_id, bid.index))
        elif job.state is JobState.AWAITING_SETTLEMENT and bid is not None and bid.revealed:
            # the leader's first trace commit settles the auction on the way (no separate transaction)
            actions.append(TrainWindow(job.job_id, 0))
        elif mine and (job.state is JobState.TRAINING or (job.state is JobState.DISPUTED and job.result_at == 0)):
            # a dispute opened during training does not stop it: the market takes commits until the result
            if job.leaf_count < job.num_windows:
                actions.append(TrainWindow(job.job_id, job.leaf_count))
            elif job.result_at == 0:
                actions.append(SubmitResult(job.job_id))
        elif job.state is JobState.FINALIZABLE and mine:
            actions.append(Finalize(job.job_id))
    if view.credits > 0:
        actions.append(Claim())
    return actions
