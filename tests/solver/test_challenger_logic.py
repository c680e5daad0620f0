"""The challenger's decisions without a chain: which windows it re-executes, and when a job can be checked."""

from dataclasses import replace

import pytest

from trainyard.challenger.logic import ChallengerPolicy, due, sampled_windows, watchable
from trainyard.jobs import JobState, JobView

ZERO = "0x" + "00" * 20
BASE = JobView(
    job_id=3, state=JobState.TRAINING, submitter=ZERO, spec_hash=b"\x01" * 32, spec_cid="bafk", max_price=1,
    stake_per_bid=1, num_windows=16, bid_deadline=1, reveal_deadline=2, train_deadline=9, challenge_period=6,
    bid_count=1, winner=ZERO, leader=ZERO, price=1, leaf_count=5, trace_root=b"\x00" * 32, result_at=0,
    open_disputes=0,
)


@pytest.mark.parametrize("rate,expected", [(0.25, 4), (0.3, 5), (1.0, 16), (0.01, 1)])
def test_samples_ceil_rate_windows_at_least_one(rate, expected):
    w = sampled_windows(ChallengerPolicy(sample_rate=rate, secret=b"s"), 3, 16)
    assert len(w) == expected and w == sorted(set(w)) and all(0 <= x < 16 for x in w)


def test_sample_is_fixed_per_job_and_secret_but_differs_between_them():
    p, q = ChallengerPolicy(sample_rate=0.25, secret=b"a"), ChallengerPolicy(sample_rate=0.25, secret=b"b")
    assert sampled_windows(p, 3, 64) == sampled_windows(p, 3, 64)
    assert sampled_windows(p, 3, 64) != sampled_windows(q, 3, 64)
    assert sampled_windows(p, 3, 64) != sampled_windows(p, 4, 64)


def test_bad_policies_are_refused():
    with pytest.raises(ValueError):
        ChallengerPolicy(sample_rate=0)
    with pytest.raises(ValueError):
        ChallengerPolicy(degree=1)


def test_verifier_checks_committed_windows_during_training_whistleblower_waits_for_the_result():
    verifier, whistleblower = ChallengerPolicy(sample_rate=1.0), ChallengerPolicy(sample_rate=1.0, after_result=True)
    assert watchable(BASE, verifier) and not watchable(BASE, whistleblower)
    assert not watchable(replace(BASE, leaf_count=0), verifier)
    for state in (JobState.CHALLENGE, JobState.DISPUTED):
        assert watchable(replace(BASE, state=state), whistleblower)
    for state in (JobState.BIDDING, JobState.FINALIZABLE, JobState.FINALIZED, JobState.SLASHED):
        assert not watchable(replace(BASE, state=state), verifier)


def test_due_windows_are_committed_sampled_and_unchecked():
    p = ChallengerPolicy(sample_rate=1.0)
    assert due(BASE, p, set()) == [0, 1, 2, 3, 4]
    assert due(BASE, p, {0, 2}) == [1, 3, 4]


def test_memory_keeps_finished_jobs_and_games_apart_and_clears_a_pending_dispute_when_its_game_opens(tmp_path):
    from trainyard.challenger.memory import ChallengerMemory, Kind

    m = ChallengerMemory(tmp_path / "c.sqlite")
    m.finish(Kind.JOB, 1)
    assert m.finished(Kind.JOB) == {1} and m.finished(Kind.GAME) == set()  # job 1 is not game 1
    m.record_pending(2, 3)
    assert m.pending(2) == 3 and m.checked(2) == {}  # a wrong window waiting for its game is not "checked"
    m.record_game(1, 2, 3)
    assert m.pending(2) is None and m.games() == [(1, 2, 3)]
    again = ChallengerMemory(tmp_path / "c.sqlite")  # a restart reads the same
    assert again.finished(Kind.JOB) == {1} and again.finished(Kind.GAME) == set()


def test_a_live_game_of_a_decided_job_must_be_closed_by_whoever_moves_next():
    from trainyard.dispute.logic import GameView, Phase, must_close

    live = GameView(1, 2, ZERO, ZERO, Phase.STEPS, True, 2, 0, 0, 4, 0, 0, 0, 10, 5)
    assert must_close(live, job_decided=True) and not must_close(live, job_decided=False)
    assert not must_close(replace(live, phase=Phase.CHALLENGER_WON), job_decided=True)
