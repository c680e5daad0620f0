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


# -- human units ---------------------------------------------------------------------------------------------------
def test_durations_read_as_a_person_says_them():
    from trainyard.status import duration

    assert [duration(s) for s in (0, 45, 600, 3 * 3600 + 300, 2 * 86400 + 4 * 3600 + 59)] == [
        "0 s", "45 s", "10 min 0 s", "3 h 5 min", "2 d 4 h"]


def test_deadlines_show_local_time_and_go_by_the_later_of_chain_and_wall_clock():
    from trainyard.status import display_now, local_time

    msg = why_waiting(replace(JOB, bid_count=2), 400, 0, 3)
    assert f"in 10 min 0 s ({local_time(1000)})" in msg
    # an idle devnet's latest block is old: the wall clock says how near the deadline really is
    assert display_now(chain_time=400, wall_time=900) == 900
    # a devnet whose clock was moved forward is ahead of the wall clock
    assert display_now(chain_time=5000, wall_time=900) == 5000


def test_the_escrow_column_shows_what_the_market_still_holds():
    from trainyard.status import held_escrow

    assert held_escrow(JOB) == ETH // 2  # bidding: the maximum
    settled = replace(JOB, state=JobState.CHALLENGE, winner="0x" + "22" * 20, price=ETH // 5)
    assert held_escrow(settled) == ETH // 5  # the rest was credited back at settlement
    unsettled = replace(JOB, state=JobState.TRAINING)  # settled lazily by the winner's first commit
    assert held_escrow(unsettled) == ETH // 2
    for s in (JobState.FINALIZED, JobState.CANCELLED, JobState.REFUNDED, JobState.SLASHED):
        assert held_escrow(replace(settled, state=s)) == 0


def test_event_arguments_in_eth_durations_and_key_value_structs():
    from web3.datastructures import AttributeDict

    from trainyard.status import show_arg

    params = AttributeDict({"stakePerBid": ETH, "numWindows": 4, "bidPeriod": 600, "challengePeriod": 1800})
    want = "(stakePerBid=1 ETH, numWindows=4, bidPeriod=10 min 0 s, challengePeriod=30 min 0 s)"
    assert show_arg("p", params) == want
    assert show_arg("escrow", ETH // 2) == "0.5 ETH" and show_arg("window", 3) == "3"
    assert show_arg("stateRoot", b"\x01\x02") == "0x0102" and show_arg("valid", True) == "true"


def test_spec_summary_names_the_job_its_model_and_data():
    from trainyard.status import spec_summary

    doc = {"name": "digits-mlp", "model": {"arch": "mlp", "layers": [64, 64, 10]}, "dataset": {"cid": "bafkdata"}}
    assert spec_summary(doc) == "digits-mlp: MLP 64-64-10, dataset bafkdata"
    assert spec_summary({"model": "odd"}) == "?: ? ?, dataset ?"


def test_verification_says_where_the_pool_is():
    from trainyard.pool import Assignment
    from trainyard.status import verification

    zero = "0x" + "00" * 20
    v = "0x" + "33" * 20
    a = Assignment(zero, 0, zero, 0, 0, 0, 0, False, False, b"", b"")
    j = replace(JOB, state=JobState.CHALLENGE, winner="0x" + "22" * 20, result_at=8000, challenge_period=1800)
    assert "not funded" in verification(a, j, 10, 8100)
    funded = replace(a, funder=JOB.submitter, fee=ETH // 100)
    assert "once the result is in" in verification(funded, replace(j, result_at=0), 10, 8100)
    assert "request the draw now" in verification(funded, j, 10, 8100)
    requested = replace(funded, request_block=11)
    assert "waits for block 11 to be mined" in verification(requested, j, 10, 8100)  # a quiet devnet
    assert "anyone may draw now" in verification(requested, j, 12, 8100)
    assert "among 16 candidates" in verification(replace(requested, tries=16), j, 12, 8100)
    drawn = replace(requested, verifier=v)
    assert f"{v} drawn" in verification(drawn, j, 12, 8100) and "in 13 min 20 s" in verification(drawn, j, 12, 8100)
    assert "did not approve in time" in verification(drawn, j, 12, 8900)  # approvals close halfway
    approved = replace(drawn, approved=True, locked=ETH)
    assert "approved by" in verification(approved, j, 12, 8100) and "1 ETH of its stake" in verification(
        approved, j, 12, 8100)
    done = replace(approved, settled=True)
    assert "paid to the verifier" in verification(done, replace(j, state=JobState.FINALIZED), 12, 9900)
    assert "back to the submitter" in verification(done, replace(j, state=JobState.SLASHED), 12, 9900)
