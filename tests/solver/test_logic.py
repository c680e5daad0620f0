"""The solver's decision function, without a chain."""

from dataclasses import replace

from trainyard.jobs import ZERO_ADDRESS, JobState, JobView
from trainyard.solver.logic import (
    BidRecord,
    Claim,
    CommitBid,
    Deposit,
    Finalize,
    Inspect,
    ReleaseBid,
    RevealBid,
    SolverPolicy,
    SolverView,
    SubmitResult,
    TrainWindow,
    next_actions,
)

ME = "0x00000000000000000000000000000000000000aA"
OTHER = "0x00000000000000000000000000000000000000bB"
ETH = 10**18
POLICY = SolverPolicy(price=ETH // 5, target_stake=2 * ETH)


def job(state: JobState = JobState.BIDDING, **kw) -> JobView:
    base = JobView(
        job_id=1,
        state=state,
        submitter=OTHER,
        spec_hash=b"\x01" * 32,
        spec_cid="bafk",
        max_price=ETH // 2,
        stake_per_bid=ETH,
        num_windows=4,
        bid_deadline=1000,
        reveal_deadline=2000,
        train_deadline=9000,
        challenge_period=600,
        bid_count=0,
        winner=ZERO_ADDRESS,
        leader=ZERO_ADDRESS,
        price=0,
        leaf_count=0,
        trace_root=b"\x00" * 32,
        result_at=0,
        open_disputes=0,
    )
    return replace(base, **kw)


def view(*jobs: JobView, **kw) -> SolverView:
    base = SolverView(now=500, me=ME, free_stake=2 * ETH, locked_stake=0, credits=0, jobs=tuple(jobs))
    return replace(base, **kw)


def test_tops_up_stake_to_target():
    assert next_actions(view(free_stake=ETH // 2), POLICY) == [Deposit(ETH + ETH // 2)]


def test_a_withdrawal_the_operator_requested_is_not_undone_by_a_top_up():
    assert Deposit(ETH + ETH // 2) not in next_actions(view(free_stake=ETH // 2, unbonding=ETH), POLICY)


def test_new_job_is_inspected_before_bidding():
    assert next_actions(view(job()), POLICY) == [Inspect(1)]


def test_doable_job_gets_a_bid_at_policy_price():
    assert next_actions(view(job(), inspected={1: None}), POLICY) == [CommitBid(1, ETH // 5)]


def test_undoable_job_is_not_bid_on():
    assert next_actions(view(job(), inspected={1: "needs 5000 features"}), POLICY) == []


def test_no_bid_above_max_price_or_without_free_stake_or_on_own_job():
    assert next_actions(view(job(max_price=ETH // 10), inspected={1: None}), POLICY) == []
    assert next_actions(view(job(), inspected={1: None}, free_stake=ETH // 2, locked_stake=2 * ETH), POLICY) == []
    assert next_actions(view(job(submitter=ME), inspected={1: None}), POLICY) == []


def test_bids_however_many_bids_are_in_but_not_after_the_deadline():
    # no cap on bids: a job jammed with others' bids is still bid on
    assert next_actions(view(job(bid_count=500), inspected={1: None}), POLICY) == [CommitBid(1, ETH // 5)]
    assert next_actions(view(job(), inspected={1: None}, now=1000), POLICY) == []


def test_free_stake_is_spent_once_across_jobs():
    jobs = (job(job_id=1), job(job_id=2))
    acts = next_actions(view(*jobs, inspected={1: None, 2: None}, free_stake=ETH, locked_stake=ETH), POLICY)
    assert acts == [CommitBid(1, ETH // 5)]


def test_reveals_own_unrevealed_bid():
    bid = BidRecord(1, ETH // 5, b"s" * 32, index=3)
    assert next_actions(view(job(JobState.REVEALING), bids={1: bid}), POLICY) == [RevealBid(1, 3, ETH // 5, b"s" * 32)]
    assert next_actions(view(job(JobState.REVEALING), bids={1: replace(bid, revealed=True)}), POLICY) == []


def test_bid_whose_commit_was_never_mined_is_not_revealed():
    bid = BidRecord(1, ETH // 5, b"s" * 32)  # index unknown: the salt was saved, the commit did not land
    assert next_actions(view(job(JobState.REVEALING), bids={1: bid}), POLICY) == []


def test_loser_releases_its_bid_after_reveal_deadline_which_settles_on_the_way():
    bid = BidRecord(1, ETH // 5, b"s" * 32, index=2, revealed=True)
    j = job(JobState.AWAITING_SETTLEMENT, leader=OTHER)
    assert next_actions(view(j, bids={1: bid}), POLICY) == [ReleaseBid(1, 2)]


def test_loser_releases_its_bid_once_in_every_settled_state():
    bid = BidRecord(1, ETH // 5, b"s" * 32, index=2, revealed=True)
    for state in (
        JobState.TRAINING,
        JobState.CHALLENGE,
        JobState.DISPUTED,
        JobState.FINALIZABLE,
        JobState.FINALIZED,
        JobState.SLASHED,
    ):
        assert next_actions(view(job(state, winner=OTHER), bids={1: bid}), POLICY) == [ReleaseBid(1, 2)]
        assert next_actions(view(job(state, winner=OTHER), bids={1: replace(bid, released=True)}), POLICY) == []


def test_every_bid_of_a_refunded_job_is_released():
    bid = BidRecord(1, ETH // 5, b"s" * 32, index=0, revealed=True)
    assert next_actions(view(job(JobState.REFUNDED), bids={1: bid}), POLICY) == [ReleaseBid(1, 0)]


def test_an_unrevealed_bid_is_released_too_after_the_reveal_period():
    # a solver that missed its reveal (it was down) still takes back its stake less the penalty
    bid = BidRecord(1, ETH // 5, b"s" * 32, index=1, revealed=False)
    assert next_actions(view(job(JobState.AWAITING_SETTLEMENT, leader=OTHER), bids={1: bid}), POLICY) == [
        ReleaseBid(1, 1)
    ]
    assert next_actions(view(job(JobState.TRAINING, winner=OTHER), bids={1: bid}), POLICY) == [ReleaseBid(1, 1)]


def test_the_winners_bid_and_an_unmined_bid_are_never_released():
    bid = BidRecord(1, ETH // 5, b"s" * 32, index=0, revealed=True)
    assert ReleaseBid(1, 0) not in next_actions(view(job(JobState.TRAINING, winner=ME), bids={1: bid}), POLICY)
    assert next_actions(view(job(JobState.FINALIZED, winner=ME), bids={1: bid}), POLICY) == []
    unmined = BidRecord(1, ETH // 5, b"s" * 32)
    assert next_actions(view(job(JobState.TRAINING, winner=OTHER), bids={1: unmined}), POLICY) == []
    for state in (JobState.BIDDING, JobState.REVEALING, JobState.CANCELLED):
        assert not any(isinstance(a, ReleaseBid) for a in next_actions(view(job(state), bids={1: bid}), POLICY))


def test_leader_trains_first_window_which_settles_on_the_way():
    bid = BidRecord(1, ETH // 5, b"s" * 32, index=0, revealed=True)
    j = job(JobState.AWAITING_SETTLEMENT, leader=ME)
    assert next_actions(view(j, bids={1: bid}), POLICY) == [TrainWindow(1, 0)]


def test_winner_trains_next_window_then_submits():
    bid = BidRecord(1, ETH // 5, b"s" * 32, index=0, revealed=True)
    j = job(JobState.TRAINING, winner=ME, leaf_count=2)
    assert next_actions(view(j, bids={1: bid}), POLICY) == [TrainWindow(1, 2)]
    j = job(JobState.TRAINING, winner=ME, leaf_count=4)
    assert next_actions(view(j, bids={1: bid}), POLICY) == [SubmitResult(1)]


def test_loser_does_nothing_while_another_trains_once_released():
    bid = BidRecord(1, ETH // 5, b"s" * 32, index=0, revealed=True, released=True)
    assert next_actions(view(job(JobState.TRAINING, winner=OTHER), bids={1: bid}), POLICY) == []


def test_winner_finalizes_and_claims():
    j = job(JobState.FINALIZABLE, winner=ME, leaf_count=4, result_at=3000)
    assert next_actions(view(j, credits=5), POLICY) == [Finalize(1), Claim()]


def test_winner_keeps_training_while_a_dispute_is_open_until_the_result():
    # a dispute opened during training must not run the solver past its deadline
    v = view(job(JobState.DISPUTED, winner=ME, leaf_count=2, open_disputes=1), locked_stake=ETH, free_stake=ETH)
    assert next_actions(v, POLICY) == [TrainWindow(1, 2)]
    v = view(job(JobState.DISPUTED, winner=ME, leaf_count=4, open_disputes=1), locked_stake=ETH, free_stake=ETH)
    assert next_actions(v, POLICY) == [SubmitResult(1)]
    v = view(
        job(JobState.DISPUTED, winner=ME, leaf_count=4, result_at=3000, open_disputes=1),
        locked_stake=ETH,
        free_stake=ETH,
    )
    assert next_actions(v, POLICY) == []
