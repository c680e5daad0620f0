"""Agents killed and restarted at seeded random points (right after a transaction is mined, before they could
record it, and between ticks): rebuilt from their SQLite file and the store, they carry on, and no honest party
loses anything. Played for an honest job (the solver is paid) and a cheating one (the verifier still wins)."""

import pytest
from conftest import PRICE, VERIFIER
from test_strategies import SGD_W0, assert_cheater_slashed, contracts_hold_what_they_owe, held, nudge, tampering

from trainyard.dispute.oracle import Tamper
from trainyard.jobs import JobState
from trainyard.rounds import Crashes, SolverSpec, run_contested_round


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_honest_solver_killed_and_restarted_is_still_paid(devnet, tmp_path, spec_path, seed):
    crashes = Crashes(seed)
    r = run_contested_round(devnet.url, tmp_path / "home", spec_path, [SolverSpec("solver", PRICE)], [VERIFIER],
                            crashes=crashes)
    assert crashes.kills > 0 and r.restarts > crashes.kills
    assert r.state is JobState.FINALIZED and not r.games
    assert r.delta("solver") + held(r, "solver") == PRICE  # paid, and all its stake is still there
    assert r.delta("verifier") == 0
    contracts_hold_what_they_owe(r)


@pytest.mark.parametrize("seed", [4, 5])
def test_a_verifier_killed_and_restarted_still_wins_its_game(devnet, tmp_path, spec_path, seed):
    crashes = Crashes(seed)
    cheat = tampering(Tamper(9, SGD_W0, nudge("l0.weight", 4, 5)))
    r = run_contested_round(devnet.url, tmp_path / "home", spec_path, [SolverSpec("solver", PRICE, cheat)],
                            [VERIFIER], crashes=crashes)
    assert crashes.kills > 0
    assert_cheater_slashed(r)
