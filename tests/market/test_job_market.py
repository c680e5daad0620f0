"""JobMarket: every external function, its revert paths and every timeout path."""

import brownie
import pytest
from conftest import (
    CORE,
    ETH,
    INTERIOR,
    PARAMS,
    REVEAL_PENALTY_BPS,
    SLASH_REWARD_BPS,
    SPEC_HASH,
    balance,
    core_with,
    typed_error,
)

from trainyard import merkle
from trainyard.runtime.commit import trace_leaf

# JobState
(
    NONE,
    BIDDING,
    REVEALING,
    AWAITING,
    TRAINING,
    CHALLENGE,
    DISPUTED,
    FINALIZABLE,
    FINALIZED,
    CANCELLED,
    REFUNDED,
    SLASHED,
) = range(12)
MAX = ETH // 2


# -- posting ------------------------------------------------------------------------------------------------
def test_post_job_escrows_and_derives_deadlines(rnd, market, chain):
    tx = rnd.post()
    j = market.job(rnd.job_id)
    t = chain[tx.block_number].timestamp
    assert rnd.job_id == 1 and market.jobCount() == 1 and market.state(1) == BIDDING
    assert (j["bidDeadline"], j["revealDeadline"], j["trainDeadline"]) == (t + 600, t + 1200, t + 4800)
    assert j["maxPrice"] == MAX and j["stakePerBid"] == ETH and j["specHash"] == "0x" + SPEC_HASH.hex()
    assert balance(market) == MAX
    assert tx.events["JobPosted"]["specCID"] == "bafkspec"


@pytest.mark.parametrize(
    "value,params,reason",
    [
        (0, PARAMS, "escrow"),
        (MAX, (0, 4, 600, 600, 3600, 600), "stakePerBid"),
        (MAX, (ETH, 0, 600, 600, 3600, 600), "numWindows"),
        (MAX, (ETH, 4, 0, 600, 3600, 600), "period"),
        (MAX, (ETH, 4, 600, 600, 3600, 0), "period"),
    ],
)
def test_post_job_with_bad_params_reverts(market, submitter, value, params, reason):
    with brownie.reverts(typed_error("JobMarketInvalidParams", reason)):
        market.postJob(CORE, "x", params, {"from": submitter, "value": value})


def test_state_of_unknown_job_is_none_and_calls_revert(market, submitter):
    assert market.state(5) == NONE
    with brownie.reverts(typed_error("JobMarketUnknownJob", 5)):
        market.cancelJob(5, {"from": submitter})


# -- cancel -------------------------------------------------------------------------------------------------
def test_cancel_before_bids_credits_escrow(rnd, market, submitter):
    rnd.post()
    market.cancelJob(1, {"from": submitter})
    assert market.state(1) == CANCELLED and market.credits(submitter) == MAX
    before = balance(submitter)
    tx = market.claimCredit({"from": submitter})
    assert balance(submitter) == before + MAX - tx.gas_used * tx.gas_price and balance(market) == 0


def test_cancel_by_other_or_after_bid_or_after_bidding_reverts(rnd, market, submitter, solvers):
    rnd.post()
    with brownie.reverts(typed_error("JobMarketNotSubmitter", 1, str(solvers[0]))):
        market.cancelJob(1, {"from": solvers[0]})
    rnd.bid(solvers[0], ETH // 5)
    with brownie.reverts(typed_error("JobMarketHasBids", 1, 1)):
        market.cancelJob(1, {"from": submitter})
    rnd.to_reveal()
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, REVEALING)):
        market.cancelJob(1, {"from": submitter})


# -- bidding ------------------------------------------------------------------------------------------------
def test_commit_bid_locks_stake(rnd, market, staking, solvers):
    rnd.post()
    tx = rnd.bid(solvers[0], ETH // 5)
    assert tx.return_value == 0 and tx.events["BidCommitted"]["index"] == 0
    assert staking.lockedStake(solvers[0]) == ETH and staking.freeStake(solvers[0]) == ETH
    assert market.bid(1, 0)["bidder"] == solvers[0]


def test_commit_bid_without_free_stake_reverts(rnd, solvers):
    rnd.post()
    with brownie.reverts(typed_error("StakingInsufficientFreeStake", str(solvers[0]), 0, ETH)):
        rnd.bid(solvers[0], ETH // 5, stake=0)


def test_submitter_cannot_bid_on_own_job(rnd, market, staking, submitter):
    rnd.post()
    staking.deposit({"from": submitter, "value": ETH})
    with brownie.reverts(typed_error("JobMarketSelfBid", 1)):
        market.commitBid(1, b"\x01" * 32, {"from": submitter})


def test_no_bid_cap_seventeenth_bid_goes_in(rnd, market, staking, accounts):
    rnd.post()
    bidder = accounts[3]
    staking.deposit({"from": bidder, "value": 17 * ETH})
    for _ in range(16):
        market.commitBid(1, b"\x01" * 32, {"from": bidder})
    tx = market.commitBid(1, b"\x01" * 32, {"from": bidder})
    assert tx.return_value == 16 and market.job(1)["bidCount"] == 17 and staking.lockedStake(bidder) == 17 * ETH


def test_commit_after_bid_deadline_reverts(rnd, market, solvers):
    rnd.post()
    rnd.to_reveal()
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, REVEALING)):
        rnd.bid(solvers[0], ETH // 5)


def test_reveal_checks_bidder_commitment_and_once(rnd, market, solvers):
    rnd.post()
    rnd.bid(solvers[0], ETH // 5)
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, BIDDING)):
        rnd.reveal(solvers[0], 0, ETH // 5)
    rnd.to_reveal()
    with brownie.reverts(typed_error("JobMarketNotBidder", 1, 3, str(solvers[0]))):
        rnd.reveal(solvers[0], 3, ETH // 5)  # no bid there: its bidder is nobody
    with brownie.reverts(typed_error("JobMarketNotBidder", 1, 0, str(solvers[1]))):
        rnd.reveal(solvers[1], 0, ETH // 5)
    with brownie.reverts(typed_error("JobMarketCommitmentMismatch", 1, str(solvers[0]))):
        rnd.reveal(solvers[0], 0, ETH // 4)
    tx = rnd.reveal(solvers[0], 0, ETH // 5)
    assert tx.events["BidRevealed"]["valid"] is True
    with brownie.reverts(typed_error("JobMarketAlreadyRevealed", 1, str(solvers[0]))):
        rnd.reveal(solvers[0], 0, ETH // 5)


def test_reveal_after_reveal_deadline_reverts(rnd, solvers):
    rnd.post()
    rnd.bid(solvers[0], ETH // 5)
    rnd.to_settlement()
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, AWAITING)):
        rnd.reveal(solvers[0], 0, ETH // 5)


# -- settlement (Vickrey) -----------------------------------------------------------------------------------
def test_three_bidders_lowest_wins_and_is_paid_second_price(rnd, market, staking, solvers, submitter):
    tx = rnd.auction([3 * ETH // 10, ETH // 5, 35 * ETH // 100])
    ev = tx.events["AuctionSettled"]
    assert ev["winner"] == solvers[1] and ev["price"] == 3 * ETH // 10 and ev["refund"] == MAX - 3 * ETH // 10
    assert market.state(1) == TRAINING and market.job(1)["winner"] == solvers[1]
    assert market.credits(submitter) == MAX - 3 * ETH // 10
    assert staking.lockedStake(solvers[1]) == ETH
    for loser in (solvers[0], solvers[2]):  # settlement touches no bid: each stays locked until released
        assert staking.lockedStake(loser) == ETH
    for i, loser in ((0, solvers[0]), (2, solvers[2])):  # anyone releases; only the bidder gets its stake back
        tx = market.releaseBid(1, i, {"from": solvers[3]})
        assert tx.events["BidReleased"]["unlocked"] == ETH and tx.events["BidReleased"]["penalty"] == 0
        assert staking.lockedStake(loser) == 0 and staking.freeStake(loser) == 2 * ETH
    assert staking.freeStake(solvers[3]) == 0 and staking.credits(solvers[3]) == 0


def test_release_bid_once_never_the_winner_and_only_after_settlement(rnd, market, staking, solvers):
    rnd.post()
    rnd.bid(solvers[0], ETH // 5, 0)
    rnd.bid(solvers[1], ETH // 4, 1)
    rnd.to_reveal()
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, REVEALING)):
        market.releaseBid(1, 1, {"from": solvers[1]})
    rnd.reveal(solvers[0], 0, ETH // 5, 0)
    rnd.reveal(solvers[1], 1, ETH // 4, 1)
    rnd.to_settlement()
    tx = market.releaseBid(1, 1, {"from": solvers[1]})  # settles on the way
    assert "AuctionSettled" in tx.events and market.state(1) == TRAINING
    with brownie.reverts(typed_error("JobMarketBidAlreadyReleased", 1, 1)):
        market.releaseBid(1, 1, {"from": solvers[1]})
    with brownie.reverts(typed_error("JobMarketWinningBid", 1, 0)):
        market.releaseBid(1, 0, {"from": solvers[0]})
    with brownie.reverts(typed_error("JobMarketNoBid", 1, 2)):
        market.releaseBid(1, 2, {"from": solvers[0]})
    assert staking.lockedStake(solvers[0]) == ETH and staking.lockedStake(solvers[1]) == 0
    assert market.bid(1, 1)["released"] and not market.bid(1, 0)["released"]


def test_single_bidder_is_paid_its_own_price(rnd):
    tx = rnd.auction([ETH // 5])
    assert tx.events["AuctionSettled"]["price"] == ETH // 5


def test_tie_goes_to_the_earlier_commit(rnd, market, solvers):
    rnd.post()
    rnd.bid(solvers[0], ETH // 5, 0)
    rnd.bid(solvers[1], ETH // 5, 1)
    rnd.to_reveal()
    rnd.reveal(solvers[1], 1, ETH // 5, 1)  # the later commit reveals first
    rnd.reveal(solvers[0], 0, ETH // 5, 0)
    rnd.to_settlement()
    tx = market.settleAuction(1, {"from": solvers[3]})
    assert tx.events["AuctionSettled"]["winner"] == solvers[0] and tx.events["AuctionSettled"]["price"] == ETH // 5


def test_bid_above_max_or_zero_is_void_and_pays_the_penalty_on_release(rnd, market, staking, solvers, submitter):
    tx = rnd.auction([MAX + 1, 0, 2 * ETH // 5])
    assert tx.events["AuctionSettled"]["winner"] == solvers[2]
    assert tx.events["AuctionSettled"]["price"] == 2 * ETH // 5  # the void bids set no second price
    rnd.release_all()
    penalty = ETH * REVEAL_PENALTY_BPS // 10_000
    for s in solvers[:2]:
        assert staking.freeStake(s) == 2 * ETH - penalty and staking.lockedStake(s) == 0
    assert staking.credits(submitter) == 2 * (penalty * SLASH_REWARD_BPS // 10_000)


def test_unrevealed_bid_forfeits_its_whole_stake_burned(rnd, market, staking, solvers, submitter):
    rnd.post()
    rnd.bid(solvers[0], ETH // 5, 0)
    rnd.bid(solvers[1], ETH // 4, 1)
    rnd.to_reveal()
    rnd.reveal(solvers[0], 0, ETH // 5, 0)
    rnd.to_settlement()
    market.settleAuction(1, {"from": submitter})
    assert staking.lockedStake(solvers[1]) == ETH
    tx = market.releaseBid(1, 1, {"from": submitter})
    assert tx.events["BidReleased"]["penalty"] == ETH and tx.events["BidReleased"]["unlocked"] == 0
    assert staking.freeStake(solvers[1]) == ETH and staking.lockedStake(solvers[1]) == 0
    assert staking.credits(submitter) == 0  # nothing to the submitter, who could hold the unrevealed bid itself
    assert staking.totalBurned() == ETH


def test_void_bid_pays_the_reveal_penalty(rnd, market, staking, solvers, submitter):
    rnd.post()
    rnd.bid(solvers[0], ETH // 5, 0)
    rnd.bid(solvers[1], 0, 1)
    rnd.to_reveal()
    rnd.reveal(solvers[0], 0, ETH // 5, 0)
    rnd.reveal(solvers[1], 1, 0, 1)
    rnd.to_settlement()
    tx = market.releaseBid(1, 1, {"from": submitter})
    penalty = ETH * REVEAL_PENALTY_BPS // 10_000
    assert tx.events["BidReleased"]["penalty"] == penalty and tx.events["BidReleased"]["unlocked"] == ETH - penalty
    assert staking.freeStake(solvers[1]) == 2 * ETH - penalty and staking.lockedStake(solvers[1]) == 0
    assert staking.credits(submitter) == penalty * SLASH_REWARD_BPS // 10_000
    assert staking.totalBurned() == penalty - penalty * SLASH_REWARD_BPS // 10_000


@pytest.mark.parametrize("period", range(4))
@pytest.mark.parametrize("seconds", [0, 10 * 60 - 1, 30 * 24 * 3600 + 1, 2**32 - 1])
def test_periods_outside_ten_minutes_to_thirty_days_are_refused(rnd, market, period, seconds):
    params = list(PARAMS)
    params[2 + period] = seconds
    with brownie.reverts(typed_error("JobMarketInvalidParams", "period")):
        rnd.post(params=tuple(params))
    params[2 + period] = 10 * 60 if seconds < 600 else 30 * 24 * 3600  # the bounds themselves are accepted
    rnd.post(params=tuple(params))


def test_a_stake_per_bid_below_the_maximum_price_is_refused(rnd):
    # an unrevealed bid forfeits its stake, which must outweigh any price a selective reveal could move
    with brownie.reverts(typed_error("JobMarketInvalidParams", "stakePerBid below maxPrice")):
        rnd.post(max_price=ETH + 1)
    rnd.post(max_price=ETH)


def test_no_valid_bid_refunds_the_whole_escrow(rnd, market, submitter):
    rnd.post()
    rnd.to_settlement()
    tx = market.settleAuction(1, {"from": submitter})
    assert tx.events["AuctionSettled"]["winner"] == "0x" + "00" * 20
    assert market.state(1) == REFUNDED and market.credits(submitter) == MAX


def test_refunded_job_releases_every_bid(rnd, market, staking, solvers, submitter):
    rnd.post()
    rnd.bid(solvers[0], 0, 0)  # void
    rnd.bid(solvers[1], ETH // 5, 1)  # never revealed
    rnd.to_reveal()
    rnd.reveal(solvers[0], 0, 0, 0)
    rnd.to_settlement()
    market.settleAuction(1, {"from": submitter})
    assert market.state(1) == REFUNDED
    for i, penalty in ((0, ETH * REVEAL_PENALTY_BPS // 10_000), (1, ETH)):  # void, never revealed
        market.releaseBid(1, i, {"from": submitter})
        assert staking.freeStake(solvers[i]) == 2 * ETH - penalty and staking.lockedStake(solvers[i]) == 0


def test_settle_before_reveal_deadline_or_twice_reverts(rnd, market, solvers):
    rnd.post()
    rnd.bid(solvers[0], ETH // 5)
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, BIDDING)):
        market.settleAuction(1, {"from": solvers[0]})
    rnd.to_reveal()
    rnd.reveal(solvers[0], 0, ETH // 5)
    rnd.to_settlement()
    market.settleAuction(1, {"from": solvers[0]})
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, TRAINING)):
        market.settleAuction(1, {"from": solvers[0]})


# -- training, result, finalization --------------------------------------------------------------------------
def test_first_commit_trace_settles_lazily(rnd, market, solvers):
    rnd.post()
    rnd.bid(solvers[0], ETH // 5)
    rnd.to_reveal()
    rnd.reveal(solvers[0], 0, ETH // 5)
    rnd.to_settlement()
    tx = market.commitTrace(1, b"\x01" * 32, INTERIOR, "c", {"from": solvers[0]})
    assert "AuctionSettled" in tx.events and tx.events["TraceCommitted"]["window"] == 0


def test_commit_trace_checks_winner_and_appends_leaves(rnd, market, solvers):
    rnd.auction([ETH // 5, ETH // 4])
    with brownie.reverts(typed_error("JobMarketNotWinner", 1, str(solvers[1]))):
        market.commitTrace(1, b"\x01" * 32, INTERIOR, "c", {"from": solvers[1]})
    leaves = []
    for w in range(4):
        state_root, cid = bytes([w + 1]) * 32, f"bafk{w}"
        tx = market.commitTrace(1, state_root, INTERIOR, cid, {"from": solvers[0]})
        leaves.append(trace_leaf(w, state_root, cid, INTERIOR))
        ev = tx.events["TraceCommitted"]
        # the market's frontier gives the same RFC 9162 root as the Python trace over the same leaves
        assert ev["window"] == w and ev["stateRoot"] == "0x" + state_root.hex() and ev["checkpointCID"] == cid
        assert ev["traceRoot"] == "0x" + merkle.root(leaves).hex() == market.job(1)["traceRoot"]
        assert market.job(1)["leafCount"] == w + 1
    with brownie.reverts(typed_error("JobMarketTraceComplete", 1, 4)):
        market.commitTrace(1, b"\x05" * 32, INTERIOR, "c", {"from": solvers[0]})


def test_trace_root_matches_python_for_many_windows(rnd, market, solvers):
    rnd.post(params=(ETH, 21, 600, 600, 3600, 600))
    rnd.bid(solvers[0], ETH // 5)
    rnd.to_reveal()
    rnd.reveal(solvers[0], 0, ETH // 5)
    rnd.to_settlement()
    leaves = []
    for w in range(21):
        tx = market.commitTrace(1, w.to_bytes(32, "big"), INTERIOR, "c", {"from": solvers[0]})
        leaves.append(trace_leaf(w, w.to_bytes(32, "big"), "c", INTERIOR))
        assert tx.events["TraceCommitted"]["traceRoot"] == "0x" + merkle.root(leaves).hex()


def test_submit_result_needs_complete_trace_and_winner(rnd, market, solvers):
    rnd.auction([ETH // 5])
    for w in range(3):
        market.commitTrace(1, bytes([w + 1]) * 32, INTERIOR, "c", {"from": solvers[0]})
    with brownie.reverts(typed_error("JobMarketTraceIncomplete", 1, 3, 4)):
        market.submitResult(1, "c", {"from": solvers[0]})
    market.commitTrace(1, b"\x04" * 32, INTERIOR, "last", {"from": solvers[0]})
    with brownie.reverts(typed_error("JobMarketNotWinner", 1, str(solvers[1]))):
        market.submitResult(1, "last", {"from": solvers[1]})
    # the model is the trace's last checkpoint, nothing else
    with brownie.reverts(typed_error("JobMarketModelNotInTrace", 1, "c")):
        market.submitResult(1, "c", {"from": solvers[0]})
    tx = market.submitResult(1, "last", {"from": solvers[0]})
    assert tx.events["ResultSubmitted"]["traceRoot"] == market.job(1)["traceRoot"]
    assert market.state(1) == CHALLENGE
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, CHALLENGE)):
        market.commitTrace(1, b"\x05" * 32, INTERIOR, "c", {"from": solvers[0]})


def test_commit_and_submit_after_training_deadline_revert(rnd, market, solvers):
    rnd.auction([ETH // 5])
    for w in range(4):
        market.commitTrace(1, bytes([w + 1]) * 32, INTERIOR, "c", {"from": solvers[0]})
    rnd.sleep_until(market.job(1)["trainDeadline"] + 1)
    deadline = market.job(1)["trainDeadline"]
    with brownie.reverts(typed_error("JobMarketDeadlinePassed", 1, deadline)):
        market.submitResult(1, "c", {"from": solvers[0]})


def test_finalize_after_challenge_period_pays_solver_and_unlocks(rnd, market, staking, solvers, submitter):
    rnd.auction([ETH // 5, ETH // 4])
    rnd.train(solvers[0])
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, CHALLENGE)):
        market.finalize(1, {"from": submitter})
    rnd.sleep_until(market.job(1)["resultAt"] + 600)
    assert market.state(1) == FINALIZABLE
    tx = market.finalize(1, {"from": submitter})  # anyone may
    assert tx.events["JobFinalized"]["payment"] == ETH // 4
    assert market.state(1) == FINALIZED and market.credits(solvers[0]) == ETH // 4
    assert staking.lockedStake(solvers[0]) == 0 and staking.freeStake(solvers[0]) == 2 * ETH
    market.claimCredit({"from": solvers[0]})
    market.claimCredit({"from": submitter})
    assert balance(market) == 0
    with brownie.reverts(typed_error("JobMarketNoCredit", str(solvers[0]))):
        market.claimCredit({"from": solvers[0]})


# -- timeouts -----------------------------------------------------------------------------------------------
def test_timeout_training_slashes_winner_and_refunds(rnd, market, staking, solvers, submitter):
    rnd.auction([ETH // 5, ETH // 4])
    deadline = market.job(1)["trainDeadline"]
    with brownie.reverts(typed_error("JobMarketDeadlineNotReached", 1, deadline)):
        market.timeoutTraining(1, {"from": submitter})
    rnd.sleep_until(deadline + 1)
    tx = market.timeoutTraining(1, {"from": solvers[3]})  # anyone may
    assert tx.events["TrainingTimedOut"]["slashed"] == ETH
    assert market.state(1) == SLASHED
    assert market.credits(submitter) == MAX  # refund at settlement + the price now
    assert staking.lockedStake(solvers[0]) == 0 and staking.freeStake(solvers[0]) == ETH
    assert staking.credits(submitter) == ETH * SLASH_REWARD_BPS // 10_000
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, SLASHED)):
        market.timeoutTraining(1, {"from": submitter})


def test_timeout_training_after_result_reverts(rnd, market, solvers, submitter):
    rnd.auction([ETH // 5])
    rnd.train(solvers[0])
    rnd.sleep_until(market.job(1)["trainDeadline"] + 1)
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, FINALIZABLE)):
        market.timeoutTraining(1, {"from": submitter})


def test_timeout_training_settles_an_unsettled_auction_first(rnd, market, solvers, submitter):
    rnd.post()
    rnd.bid(solvers[0], ETH // 5)
    rnd.to_reveal()
    rnd.reveal(solvers[0], 0, ETH // 5)
    rnd.sleep_until(market.job(1)["trainDeadline"] + 1)
    tx = market.timeoutTraining(1, {"from": submitter})
    assert "AuctionSettled" in tx.events and market.state(1) == SLASHED


# -- dispute hook -------------------------------------------------------------------------------------------
def test_only_dispute_game_opens_and_resolves(rnd, market, solvers):
    rnd.auction([ETH // 5])
    with brownie.reverts(typed_error("JobMarketNotDisputeGame", str(solvers[0]))):
        market.openDispute(1, {"from": solvers[0]})
    with brownie.reverts(typed_error("JobMarketNotDisputeGame", str(solvers[0]))):
        market.resolveDispute(1, True, True, solvers[0], {"from": solvers[0]})


def test_dispute_game_set_once_by_the_deployer_only(JobMarket, market, staking, one_step, accounts):
    with brownie.reverts(typed_error("JobMarketDisputeGameAlreadySet", str(accounts[9]))):
        market.setDisputeGame(accounts[5], {"from": accounts[0]})
    fresh = JobMarket.deploy(staking, one_step, 1000, 5000, {"from": accounts[0]})
    with brownie.reverts(typed_error("JobMarketNotDeployer", str(accounts[5]))):
        fresh.setDisputeGame(accounts[5], {"from": accounts[5]})
    assert "owner" not in dir(fresh) and "transferOwnership" not in dir(fresh)


def test_open_dispute_any_number_of_times_while_the_window_is_open(rnd, market, game, solvers):
    rnd.auction([ETH // 5])
    market.commitTrace(1, b"\x01" * 32, INTERIOR, "c", {"from": solvers[0]})
    for n in range(1, 21):  # no cap on games: more than the old 16
        assert market.openDispute(1, {"from": game}).events["DisputeOpened"]["openDisputes"] == n
    assert market.job(1)["openDisputes"] == 20 and market.state(1) == DISPUTED


def test_open_dispute_refused_after_the_training_deadline_without_result(rnd, market, game, solvers):
    rnd.auction([ETH // 5])
    market.commitTrace(1, b"\x01" * 32, INTERIOR, "c", {"from": solvers[0]})
    deadline = market.job(1)["trainDeadline"]
    rnd.sleep_until(deadline - 5)
    market.openDispute(1, {"from": game})  # still inside the window
    rnd.sleep_until(deadline + 1)
    with brownie.reverts(typed_error("JobMarketDisputesClosed", 1, deadline)):
        market.openDispute(1, {"from": game})


def test_open_dispute_refused_after_the_challenge_period(rnd, market, game, solvers):
    rnd.auction([ETH // 5])
    rnd.train(solvers[0])
    closes = market.job(1)["resultAt"] + 600 - 1
    rnd.sleep_until(closes - 5)
    market.openDispute(1, {"from": game})  # inside the window; it stays open
    rnd.sleep_until(closes + 1)
    with brownie.reverts(typed_error("JobMarketDisputesClosed", 1, closes)):
        market.openDispute(1, {"from": game})
    market.resolveDispute(1, False, True, solvers[3], {"from": game})
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, FINALIZABLE)):
        market.openDispute(1, {"from": game})


def test_timeout_training_with_open_disputes_pays_the_submitter(rnd, market, staking, game, solvers, submitter):
    rnd.auction([ETH // 5])
    market.commitTrace(1, b"\x01" * 32, INTERIOR, "c", {"from": solvers[0]})
    market.openDispute(1, {"from": game})
    market.openDispute(1, {"from": game})
    rnd.sleep_until(market.job(1)["trainDeadline"] + 1)
    assert market.state(1) == DISPUTED
    market.timeoutTraining(1, {"from": solvers[3]})
    assert market.state(1) == SLASHED and market.credits(submitter) == MAX
    assert staking.credits(submitter) == ETH * SLASH_REWARD_BPS // 10_000 and staking.credits(solvers[3]) == 0
    # the games still close, and pay nothing more
    assert market.resolveDispute(1, True, True, solvers[3], {"from": game}).return_value == 0
    assert staking.credits(solvers[3]) == 0 and market.job(1)["openDisputes"] == 1


def test_resolve_dispute_after_a_slash_by_timeout_leaves_the_job(rnd, market, staking, game, solvers, submitter):
    rnd.auction([ETH // 5])
    market.commitTrace(1, b"\x01" * 32, INTERIOR, "c", {"from": solvers[0]})
    market.openDispute(1, {"from": game})
    rnd.sleep_until(market.job(1)["trainDeadline"] + 1)
    market.timeoutTraining(1, {"from": submitter})
    before = (market.credits(submitter), staking.credits(submitter), staking.totalBurned())
    tx = market.resolveDispute(1, True, True, solvers[3], {"from": game})
    assert tx.return_value == 0 and market.state(1) == SLASHED
    assert (market.credits(submitter), staking.credits(submitter), staking.totalBurned()) == before
    assert staking.credits(solvers[3]) == 0


def test_trace_root_at_keeps_every_old_root(rnd, market, solvers):
    rnd.auction([ETH // 5])
    leaves, roots = [], []
    for w in range(4):
        market.commitTrace(1, bytes([w + 1]) * 32, INTERIOR, f"c{w}", {"from": solvers[0]})
        leaves.append(trace_leaf(w, bytes([w + 1]) * 32, f"c{w}", INTERIOR))
        roots.append("0x" + merkle.root(leaves).hex())
    assert [market.traceRootAt(1, n) for n in range(1, 5)] == roots
    assert market.traceRootAt(1, 0) == market.traceRootAt(1, 5) == "0x" + "00" * 32
    assert len(set(roots)) == 4


def test_open_dispute_needs_a_committed_trace(rnd, market, game, solvers):
    rnd.auction([ETH // 5])
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, TRAINING)):
        market.openDispute(1, {"from": game})
    market.commitTrace(1, b"\x01" * 32, INTERIOR, "c", {"from": solvers[0]})
    market.openDispute(1, {"from": game})
    assert market.state(1) == DISPUTED


def test_solver_keeps_training_and_submits_while_a_dispute_is_open(rnd, market, game, solvers):
    rnd.auction([ETH // 5])
    market.commitTrace(1, b"\x01" * 32, INTERIOR, "c", {"from": solvers[0]})
    market.openDispute(1, {"from": game})
    assert market.state(1) == DISPUTED
    for k in range(2, 5):
        market.commitTrace(1, bytes([k]) * 32, INTERIOR, "c", {"from": solvers[0]})
    market.submitResult(1, "c", {"from": solvers[0]})
    assert market.state(1) == DISPUTED  # the result is in; the dispute still blocks payment
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, DISPUTED)):
        market.commitTrace(1, b"\x09" * 32, INTERIOR, "c", {"from": solvers[0]})
    market.resolveDispute(1, False, True, solvers[3], {"from": game})
    assert market.state(1) == CHALLENGE


def test_open_dispute_blocks_finalize_until_resolved_for_solver(rnd, market, game, solvers, submitter):
    rnd.auction([ETH // 5])
    rnd.train(solvers[0])
    market.openDispute(1, {"from": game})
    rnd.sleep_until(market.job(1)["resultAt"] + 600)
    assert market.state(1) == DISPUTED
    with brownie.reverts(typed_error("JobMarketInvalidState", 1, DISPUTED)):
        market.finalize(1, {"from": submitter})
    market.resolveDispute(1, False, True, solvers[3], {"from": game})
    assert market.state(1) == FINALIZABLE
    market.finalize(1, {"from": submitter})
    with brownie.reverts(typed_error("JobMarketNoOpenDispute", 1)):
        market.resolveDispute(1, False, True, solvers[3], {"from": game})


def test_solver_losing_dispute_is_slashed_and_submitter_refunded(rnd, market, staking, game, solvers, submitter):
    rnd.auction([ETH // 5])
    rnd.train(solvers[0])
    market.openDispute(1, {"from": game})
    market.openDispute(1, {"from": game})  # a second challenger
    market.resolveDispute(1, True, True, solvers[3], {"from": game})
    assert market.state(1) == SLASHED
    assert market.credits(submitter) == MAX
    assert staking.credits(solvers[3]) == ETH * SLASH_REWARD_BPS // 10_000
    market.resolveDispute(1, True, True, solvers[2], {"from": game})  # the job was already slashed: nothing twice
    assert staking.credits(solvers[2]) == 0 and market.credits(submitter) == MAX


def test_a_loss_on_time_before_a_result_pays_the_submitter_not_the_game(rnd, market, staking, game, solvers, submitter):
    """A solver that stops answering a game before it has a result is a late solver: the reward goes to the submitter
    (as `timeoutTraining` would give it), so a solver cannot route it to a sock by losing its sock's game on time."""
    rnd.auction([ETH // 5])
    market.commitTrace(1, b"\x01" * 32, INTERIOR, "c", {"from": solvers[0]})
    market.openDispute(1, {"from": game})
    tx = market.resolveDispute(1, True, False, solvers[3], {"from": game})  # lost on time, no result yet
    assert tx.return_value == 0 and market.state(1) == SLASHED
    assert market.credits(submitter) == MAX and staking.credits(submitter) == ETH * SLASH_REWARD_BPS // 10_000
    assert staking.credits(solvers[3]) == 0


@pytest.mark.parametrize("by_proof", [True, False])
def test_a_loss_after_the_result_or_by_proof_pays_the_game(rnd, market, staking, game, solvers, submitter, by_proof):
    """After its result a solver's loss in a game pays the game (on time or by the proof); before it, only the proof."""
    rnd.auction([ETH // 5])
    if by_proof:
        market.commitTrace(1, b"\x01" * 32, INTERIOR, "c", {"from": solvers[0]})
    else:
        rnd.train(solvers[0])
    market.openDispute(1, {"from": game})
    tx = market.resolveDispute(1, True, by_proof, solvers[3], {"from": game})
    assert tx.return_value == ETH * SLASH_REWARD_BPS // 10_000 and market.state(1) == SLASHED
    assert staking.credits(solvers[3]) == tx.return_value and staking.credits(submitter) == 0


# -- limits of disputability at postJob ------------------------------------------------------------------------
def test_post_job_stores_the_hash_of_the_core(rnd, market):
    tx = rnd.post()
    assert tx.events["JobPosted"]["specHash"] == "0x" + SPEC_HASH.hex() == market.job(1)["specHash"]


def test_post_job_refuses_a_17_layer_model(market, submitter):
    """Attack (4): a model too deep for OneStep was accepted, so its honest solver could never reveal an op."""
    deep = core_with(layers=[8] * 18)  # 18 widths: 17 layers
    with brownie.reverts(typed_error("OneStepUnsupported", "layers", 18, 17)):
        market.postJob(deep, "x", PARAMS, {"from": submitter, "value": MAX})
    assert market.jobCount() == 0 and balance(market) == 0


def _python_accepts(core) -> bool:
    from trainyard.errors import SpecError
    from trainyard.spec import check_disputable

    layers, batch, interval = core[9], core[4], core[5]
    try:
        check_disputable(tuple(layers), batch, interval)
    except SpecError:
        return False
    return True


def _chain_accepts(one_step, core) -> bool:
    try:
        one_step.checkLimits(core)
    except brownie.exceptions.VirtualMachineError as exc:
        assert exc.revert_msg.startswith("OneStepUnsupported")
        return False
    return True


@pytest.mark.parametrize("core,inside", [
    (core_with(layers=[8] * 17), True), (core_with(layers=[8] * 18), False),  # 16 layers / 17
    (core_with(layers=[64, 8, 3]), True), (core_with(layers=[65, 8, 3]), False),  # input width
    (core_with(layers=[8, 64, 3]), True), (core_with(layers=[8, 65, 3]), False),  # hidden width
    (core_with(layers=[8, 8, 64]), True), (core_with(layers=[8, 8, 65]), False),  # classes
    (core_with(batch_size=32), True), (core_with(batch_size=33), False),
    (core_with(checkpoint_interval=2), True), (core_with(checkpoint_interval=1), False),
])
def test_spec_validator_and_one_step_agree_on_every_limit(one_step, core, inside):
    """The submitter's validator (trainyard/spec.py) and OneStep.checkLimits (which postJob calls) draw every
    line at the same number: just inside each limit both accept, just outside both refuse."""
    assert _chain_accepts(one_step, core) is inside
    assert _python_accepts(core) is inside
