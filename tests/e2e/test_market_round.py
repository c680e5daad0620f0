"""The demo's scenario end to end on Anvil: post, three sealed bids, Vickrey settlement, exact training,
trace commits, result, finalization, claims; money is conserved to the wei."""

from pathlib import Path

from trainyard.demo import SOLVER_PRICES, run_round
from trainyard.jobs import JobState

ETH = 10**18
SPEC = Path(__file__).resolve().parents[2] / "examples" / "digits.yaml"


def test_full_round_pays_lowest_bidder_the_second_price(devnet, tmp_path):
    r = run_round(devnet.url, tmp_path, SPEC, show_progress=False)
    assert r.state is JobState.FINALIZED
    by_role = {p.role: p for p in r.parties}
    solver_a, solver_b, solver_c = (by_role[f"solver {n}"] for n in "ABC")
    assert r.winner == solver_a.address  # asked the least
    assert r.price == int(SOLVER_PRICES[1] * ETH)  # paid the second-lowest bid

    fees = {p.address: 0 for p in r.parties}
    for g in r.gas:
        fees[g.sender] += g.fee
    delta = {p.address: r.balances[p.address] - p.start_balance for p in r.parties}
    # submitter: paid exactly the price (escrow out, refund of escrow - price back) and its gas
    assert delta[by_role["submitter"].address] == -r.price - fees[by_role["submitter"].address]
    # winner: deposited 2 ETH of stake, was paid the price; its stake is unlocked and still deposited
    assert delta[solver_a.address] == r.price - 2 * ETH - fees[solver_a.address]
    assert r.stakes[solver_a.address] == 2 * ETH
    for loser in (solver_b, solver_c):  # each loser took its stake back by its own releaseBid, to the wei
        assert [g.label for g in r.gas if g.sender == loser.address].count("releaseBid") == 1
        assert delta[loser.address] == -2 * ETH - fees[loser.address]
        assert r.stakes[loser.address] == 2 * ETH
    # everything that left the wallets is in the contracts, as stake: no escrow or credit is left behind
    assert r.contract_balances["Staking"] == 6 * ETH
    assert r.contract_balances["JobMarket"] == 0
    assert r.accuracy is not None and r.accuracy > 0.8


def test_demo_cheater_is_caught_and_slashed(devnet, tmp_path):
    from trainyard.demo_dispute import report, run_cheating_round
    from trainyard.dispute.client import DisputeClient

    r = run_cheating_round(devnet.url, tmp_path, SPEC)
    assert r.state is JobState.SLASHED and len(r.games) == 1
    game = DisputeClient(r.chains["deployer"]).raw(r.games[0])
    assert game["step"] == 600 and game["phase"] == 8  # the nudged step; the challenger won
    assert r.delta("submitter") == 0 and r.delta("verifier") == ETH // 2
    text = report(r)
    assert "sgd_l0.weight" in text and "caught and slashed" in text
