"""brownie script: deploy Staking, JobMarket, OneStep, DisputeGame and VerifierPool on any network brownie knows and
write the deployments file.

    brownie run scripts/deploy.py --network <name>

The deploying account is brownie's first account on a development network, otherwise the keystore account named
by the environment variable TRAINYARD_BROWNIE_ACCOUNT (`brownie accounts list`). The addresses go to
$TRAINYARD_DEPLOYMENTS (default .trainyard/deployments.json) under the chain id, where the agents read them.
(`trainyard deploy` does the same with web3.py alone, for machines without brownie.)
"""

import os
from pathlib import Path

from brownie import DisputeGame, JobMarket, OneStep, Staking, VerifierPool, accounts, chain, network

from trainyard.config import write_deployments
from trainyard.deploy import Economics


def main():
    if network.show_active().startswith("development") or "fork" in network.show_active():
        deployer = accounts[0]
    else:
        deployer = accounts.load(os.environ["TRAINYARD_BROWNIE_ACCOUNT"])
    econ = Economics()
    staking = Staking.deploy(econ.unbonding_delay, {"from": deployer})
    one_step = OneStep.deploy({"from": deployer})
    market = JobMarket.deploy(staking, one_step, econ.reveal_penalty_bps, econ.slash_reward_bps, {"from": deployer})
    game = DisputeGame.deploy(
        market, one_step, econ.challenge_bond, econ.clock_budget, econ.bond_reward_bps, {"from": deployer}
    )
    market.setDisputeGame(game, {"from": deployer})
    pool = VerifierPool.deploy(
        market, staking, game, econ.verifier_stake, econ.slash_reward_bps, econ.sample_bps, {"from": deployer}
    )
    game.setVerifierPool(pool, {"from": deployer})  # approvals can be challenged in games their approver defends
    staking.wire([market, pool], {"from": deployer})  # once, for good: no key is left over anyone's stake
    path = Path(os.environ.get("TRAINYARD_DEPLOYMENTS", ".trainyard/deployments.json"))
    addresses = {
        "Staking": staking,
        "JobMarket": market,
        "OneStep": one_step,
        "DisputeGame": game,
        "VerifierPool": pool,
    }
    write_deployments(path, chain.id, {k: v.address for k, v in addresses.items()})
    print(", ".join(f"{k} {v.address}" for k, v in addresses.items()) + f" -> {path} (chain {chain.id})")
