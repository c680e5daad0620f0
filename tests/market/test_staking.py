"""Staking: deposits, unbonding withdrawals, lock/unlock/slash by wired lockers only and each only on what it
locked, wiring once with no key left over anyone's stake, credits."""

import brownie
import pytest
from conftest import ETH, UNBONDING, balance, typed_error


@pytest.fixture(scope="module")
def lockers(market, accounts):
    # accounts[8] and [7] stand in for two more locker contracts (the verifier pool and another)
    return [market, accounts[8], accounts[7]]


@pytest.fixture(scope="module")
def auth(wired, accounts):
    return accounts[8]


@pytest.fixture(scope="module")
def other(wired, accounts):
    return accounts[7]


def test_deposit_adds_free_stake_and_emits(staking, accounts):
    tx = staking.deposit({"from": accounts[1], "value": ETH})
    assert staking.freeStake(accounts[1]) == ETH
    assert tx.events["Deposited"]["amount"] == ETH


def test_deposit_zero_reverts(staking, accounts):
    with brownie.reverts(typed_error("StakingZeroAmount")):
        staking.deposit({"from": accounts[1], "value": 0})


def test_withdraw_waits_for_unbonding_delay(staking, accounts, chain):
    a = accounts[1]
    staking.deposit({"from": a, "value": 2 * ETH})
    tx = staking.requestWithdrawal(ETH, {"from": a})
    release = tx.events["WithdrawalRequested"]["releaseAt"]
    assert staking.freeStake(a) == ETH and tuple(staking.unbonding(a)) == (ETH, release)
    with pytest.raises(brownie.exceptions.VirtualMachineError) as exc:
        staking.withdraw({"from": a})  # the last argument is the block's timestamp
    assert exc.value.revert_msg.startswith(typed_error("StakingNotWithdrawable", str(a), ETH, release))
    chain.sleep(UNBONDING)
    chain.mine()
    before = balance(a)
    tx = staking.withdraw({"from": a})
    assert balance(a) == before + ETH - tx.gas_used * tx.gas_price
    assert tuple(staking.unbonding(a)) == (0, 0)


def test_withdraw_without_request_reverts(staking, accounts):
    with brownie.reverts():
        staking.withdraw({"from": accounts[1]})


def test_request_withdrawal_more_than_free_reverts(staking, accounts):
    staking.deposit({"from": accounts[1], "value": ETH})
    with brownie.reverts(typed_error("StakingInsufficientFreeStake", str(accounts[1]), ETH, 2 * ETH)):
        staking.requestWithdrawal(2 * ETH, {"from": accounts[1]})
    with brownie.reverts(typed_error("StakingZeroAmount")):
        staking.requestWithdrawal(0, {"from": accounts[1]})


def test_second_request_adds_and_restarts_the_delay(staking, accounts, chain):
    a = accounts[1]
    staking.deposit({"from": a, "value": 2 * ETH})
    staking.requestWithdrawal(ETH // 2, {"from": a})
    chain.sleep(UNBONDING - 100)
    tx = staking.requestWithdrawal(ETH // 2, {"from": a})
    assert tuple(staking.unbonding(a)) == (ETH, tx.events["WithdrawalRequested"]["releaseAt"])
    chain.sleep(200)
    chain.mine()
    with brownie.reverts():
        staking.withdraw({"from": a})


def test_lock_unlock_slash_only_by_authorised(staking, accounts):
    for fn, args in ((staking.lock, (accounts[1], 1)), (staking.unlock, (accounts[1], 1)),
                     (staking.slash, (accounts[1], 1, accounts[2], 0))):
        with brownie.reverts(typed_error("StakingUnauthorized", str(accounts[3]))):
            fn(*args, {"from": accounts[3]})


def test_wire_emits_one_event_per_locker(Staking, accounts):
    s = Staking.deploy(UNBONDING, {"from": accounts[0]})
    tx = s.wire([accounts[8], accounts[7]], {"from": accounts[0]})
    assert [e["locker"] for e in tx.events["LockerWired"]] == [accounts[8], accounts[7]]
    assert s.wired() and s.isLocker(accounts[8]) and s.isLocker(accounts[7]) and not s.isLocker(accounts[0])


def test_wire_only_by_the_deployer_and_only_once(Staking, staking, accounts):
    s = Staking.deploy(UNBONDING, {"from": accounts[0]})
    with brownie.reverts(typed_error("StakingUnauthorized", str(accounts[3]))):
        s.wire([accounts[3]], {"from": accounts[3]})
    # the fixture's staking is wired already: nobody, the deployer included, can add a locker
    for who in (accounts[0], accounts[3]):
        with brownie.reverts(typed_error("StakingUnauthorized", str(who))):
            staking.wire([who], {"from": who})
    assert not staking.isLocker(accounts[0]) and not staking.isLocker(accounts[3])


def test_no_key_over_anyones_stake_after_wiring(staking, market, accounts):
    """The deployer (the old owner) and every other account but a locker can neither lock, unlock, slash nor
    withdraw another's stake, nor become a locker; the victim's stake is all there after every attempt."""
    victim = accounts[1]
    staking.deposit({"from": victim, "value": 2 * ETH})
    staking.requestWithdrawal(ETH, {"from": victim})
    for who in (accounts[0], accounts[3], accounts[9]):
        for fn, args in ((staking.lock, (victim, ETH)), (staking.unlock, (victim, ETH)),
                         (staking.slash, (victim, ETH, who, ETH)), (staking.wire, ([who],))):
            with brownie.reverts(typed_error("StakingUnauthorized", str(who))):
                fn(*args, {"from": who})
        with brownie.reverts():
            staking.withdraw({"from": who})  # nothing of its own unbonding; never the victim's
        with brownie.reverts(typed_error("StakingNoCredit", str(who))):
            staking.claimCredit({"from": who})
    assert staking.freeStake(victim) == ETH and next(iter(staking.unbonding(victim))) == ETH
    assert staking.lockedStake(victim) == 0 and staking.totalBurned() == 0
    assert "owner" not in dir(staking) and "setAuthorized" not in dir(staking)


def test_a_locker_cannot_touch_what_another_locked(staking, auth, other, accounts):
    a = accounts[1]
    staking.deposit({"from": a, "value": 3 * ETH})
    staking.lock(a, 2 * ETH, {"from": auth})
    staking.lock(a, ETH, {"from": other})
    assert staking.lockedStake(a) == 3 * ETH
    assert (staking.lockedBy(auth, a), staking.lockedBy(other, a)) == (2 * ETH, ETH)
    # `other` holds 1 ETH: it can neither slash nor unlock more, though the account has 3 ETH locked in all
    with brownie.reverts(typed_error("StakingInsufficientLockedStake", str(other), str(a), ETH, 2 * ETH)):
        staking.slash(a, 2 * ETH, other, 0, {"from": other})
    with brownie.reverts(typed_error("StakingInsufficientLockedStake", str(other), str(a), ETH, 3 * ETH)):
        staking.unlock(a, 3 * ETH, {"from": other})
    tx = staking.slash(a, ETH, other, 0, {"from": other})
    assert tx.events["StakeSlashed"]["locker"] == other
    with brownie.reverts(typed_error("StakingInsufficientLockedStake", str(other), str(a), 0, 1)):
        staking.unlock(a, 1, {"from": other})
    assert staking.lockedBy(auth, a) == 2 * ETH and staking.lockedStake(a) == 2 * ETH
    staking.unlock(a, 2 * ETH, {"from": auth})
    assert (staking.freeStake(a), staking.lockedStake(a)) == (2 * ETH, 0)


def test_lock_unlock_move_between_free_and_locked(staking, auth, accounts):
    a = accounts[1]
    staking.deposit({"from": a, "value": 3 * ETH})
    staking.lock(a, 2 * ETH, {"from": auth})
    assert (staking.freeStake(a), staking.lockedStake(a)) == (ETH, 2 * ETH)
    with brownie.reverts(typed_error("StakingInsufficientFreeStake", str(a), ETH, 2 * ETH)):
        staking.lock(a, 2 * ETH, {"from": auth})
    staking.unlock(a, ETH, {"from": auth})
    assert (staking.freeStake(a), staking.lockedStake(a)) == (2 * ETH, ETH)
    with brownie.reverts(typed_error("StakingInsufficientLockedStake", str(auth), str(a), ETH, 2 * ETH)):
        staking.unlock(a, 2 * ETH, {"from": auth})


def test_slash_credits_reward_and_burns_the_rest(staking, auth, accounts):
    a, b = accounts[1], accounts[2]
    staking.deposit({"from": a, "value": 2 * ETH})
    staking.lock(a, 2 * ETH, {"from": auth})
    tx = staking.slash(a, ETH, b, ETH // 4, {"from": auth})
    assert tx.events["StakeSlashed"]["reward"] == ETH // 4
    assert staking.lockedStake(a) == ETH and staking.credits(b) == ETH // 4 and staking.totalBurned() == 3 * ETH // 4
    with brownie.reverts(typed_error("StakingRewardExceedsSlash", 1, 2)):
        staking.slash(a, 1, b, 2, {"from": auth})
    with brownie.reverts(typed_error("StakingInsufficientLockedStake", str(auth), str(a), ETH, 2 * ETH)):
        staking.slash(a, 2 * ETH, b, 0, {"from": auth})
    before = balance(b)
    tx = staking.claimCredit({"from": b})
    assert balance(b) == before + ETH // 4 - tx.gas_used * tx.gas_price
    assert staking.credits(b) == 0
    with brownie.reverts(typed_error("StakingNoCredit", str(b))):
        staking.claimCredit({"from": b})
