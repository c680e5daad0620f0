"""Why a job waits: one sentence per phase, computed without a chain."""

from dataclasses import replace

from trainyard.jobs import ZERO_ADDRESS, JobState, JobView
from trainyard.status import why_waiting

ETH = 10**18
JOB = JobView(
    job_id=1, state=JobState.BIDDING, submitter="0x" + "11" * 20, spec_hash=b"\x01" * 32, spec_cid="bafk",
    max_price=ETH // 2, stake_per_bid=ETH, num_windows=4, bid_deadline=1000, reveal_deadline=2000,
    train_deadline=9000, challenge_period=600, bid_count=0, winner=ZERO_ADDRESS, leader=ZERO_ADDRESS, price=0,
    leaf_count=0, trace_root=b"\x00" * 32, result_at=0, open_disputes=0,
)


def test_no_solver_with_enough_free_stake_is_named():
    assert "no solver has 1 ETH of free stake" in why_waiting(JOB, 400, 0, 0)


def test_bid_window_open_counts_bids_and_says_when_it_closes():
    msg = why_waiting(replace(JOB, bid_count=2), 400, 0, 3)
    assert "2 sealed bid(s)" in msg and "in 10 min 0 s" in msg


def test_reveal_pending_counts_reveals():
    assert "1 of 3 bid(s) revealed" in why_waiting(replace(JOB, state=JobState.REVEALING, bid_count=3), 1500, 1, 3)


def test_settlement_due_points_to_poke():
    assert "trainyard poke" in why_waiting(replace(JOB, state=JobState.AWAITING_SETTLEMENT), 2500, 3, 3)


def test_training_progress_and_missed_deadline():
    j = replace(JOB, state=JobState.TRAINING, winner="0x" + "22" * 20, leaf_count=2)
    assert "2/4 checkpoint windows" in why_waiting(j, 5000, 0, 0)
    assert "missed its training deadline" in why_waiting(j, 9001, 0, 0)


def test_challenge_and_finalizable_and_ended_states():
    j = replace(JOB, state=JobState.CHALLENGE, result_at=8000)
    assert "challenge period ends in 10 min 0 s" in why_waiting(j, 8000, 0, 0)
    assert "anyone may finalize" in why_waiting(replace(j, state=JobState.FINALIZABLE), 9000, 0, 0)
    assert "paid 0.3 ETH" in why_waiting(replace(j, state=JobState.FINALIZED, price=3 * ETH // 10), 9000, 0, 0)
    assert "dispute(s) open" in why_waiting(replace(j, state=JobState.DISPUTED, open_disputes=1), 9000, 0, 0)
    for s in (JobState.CANCELLED, JobState.REFUNDED, JobState.SLASHED):
        assert "trainyard claim" in why_waiting(replace(j, state=s), 9000, 0, 0)
