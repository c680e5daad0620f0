"""The attacker contract itself: a batch is atomic and a failing call reverts it with that call's own error."""

import brownie
import pytest

from tests.adversarial.attacker import batch, call, deploy_attacker, wallet
from tests.market.conftest import ETH, UNBONDING, typed_error


@pytest.fixture
def staking(Staking, Attacker, accounts):
    s = Staking.deploy(UNBONDING, {"from": accounts[0]})
    s.wire([deploy_attacker(Attacker, accounts[0])], {"from": accounts[0]})  # deposits open once the lockers are fixed
    return s


def test_batch_makes_every_call_in_one_transaction(Attacker, staking, accounts):
    a = deploy_attacker(Attacker, accounts[1], 3 * ETH)
    tx = batch(a, accounts[1], [call(staking, "deposit", value=ETH), call(staking, "deposit", value=2 * ETH)])
    assert len(tx.events["Called"]) == 2
    assert staking.freeStake(a) == 3 * ETH
    assert wallet(a) == 0


def test_a_failing_call_reverts_the_whole_batch_with_its_own_error(Attacker, staking, accounts):
    a = deploy_attacker(Attacker, accounts[1], ETH)
    with brownie.reverts(typed_error("StakingZeroAmount")):
        batch(a, accounts[1], [call(staking, "deposit", value=ETH), call(staking, "deposit", value=0)])
    assert staking.freeStake(a) == 0
    assert wallet(a) == ETH


def test_only_the_owner_drives_it(Attacker, staking, accounts):
    a = deploy_attacker(Attacker, accounts[1])
    with brownie.reverts(typed_error("AttackerNotOwner", accounts[2].address)):
        batch(a, accounts[2], [])
