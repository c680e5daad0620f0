"""brownie script: deploy Staking and JobMarket on any network brownie knows and write the deployments file.

    brownie run scripts/deploy.py --network <name>

The deploying account is brownie's first account on a development network, otherwise the keystore account named
by the environment variable TRAINYARD_BROWNIE_ACCOUNT (`brownie accounts list`). The addresses go to
$TRAINYARD_DEPLOYMENTS (default .trainyard/deployments.json) under the chain id, where the agents read them.
(`trainyard deploy` does the same with web3.py alone, for machines without brownie.)
"""

import os
from pathlib import Path

from brownie import JobMarket, Staking, accounts, chain, network

from trainyard.config import write_deployments
from trainyard.deploy import Economics


def main():
    if network.show_active().startswith("development") or "fork" in network.show_active():
        deployer = accounts[0]
    else:
        deployer = accounts.load(os.environ["TRAINYARD_BROWNIE_ACCOUNT"])
    econ = Economics()
    staking = Staking.deploy(econ.unbonding_delay, {"from": deployer})
    market = JobMarket.deploy(staking, econ.reveal_penalty_bps, econ.slash_reward_bps, {"from": deployer})
    staking.setAuthorized(market, True, {"from": deployer})
    path = Path(os.environ.get("TRAINYARD_DEPLOYMENTS", ".trainyard/deployments.json"))
    write_deployments(path, chain.id, {"Staking": staking.address, "JobMarket": market.address})
    print(f"Staking {staking.address}, JobMarket {market.address} -> {path} (chain {chain.id})")
