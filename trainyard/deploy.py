"""Deploy Staking, JobMarket, OneStep, DisputeGame and VerifierPool with web3 (any network with an RPC URL) and write
the deployments file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_typing import ChecksumAddress

from trainyard.chain import Chain
from trainyard.config import write_deployments


@dataclass(frozen=True)
class Economics:
    """The market's defaults; README.md explains each."""

    unbonding_delay: int = 7 * 24 * 3600  # seconds a withdrawal waits, so stake cannot flee a pending slash
    reveal_penalty_bps: int = 1_000  # 10% of the bid stake for a sealed bid never revealed
    slash_reward_bps: int = 5_000  # 50% of a slashed stake to the wronged party, the rest burned
    challenge_bond: int = 10**17  # 0.1 ETH a challenger pays to open a dispute game
    clock_budget: int = 24 * 3600  # seconds each party of a game has for all its moves (a chess clock)
    bond_reward_bps: int = 5_000  # 50% of a losing challenger's bond to the solver, the rest burned
    verifier_stake: int = 10**18  # 1 ETH a verifier locks to join the pool, lost for approving a wrong result
    sample_bps: int = 2_500  # an approval opens 25% of a job's windows (at least 1, at most 16)


def deploy(chain: Chain, deployments: Path, econ: Economics = Economics()) -> dict[str, ChecksumAddress]:
    staking = chain.deploy("Staking", econ.unbonding_delay)
    one_step = chain.deploy("OneStep")
    market = chain.deploy("JobMarket", staking, one_step, econ.reveal_penalty_bps, econ.slash_reward_bps)
    game = chain.deploy("DisputeGame", market, one_step, econ.challenge_bond, econ.clock_budget, econ.bond_reward_bps)
    chain.transact(chain.contract("JobMarket").functions.setDisputeGame(game), label="setDisputeGame")
    pool = chain.deploy(
        "VerifierPool", market, staking, game, econ.verifier_stake, econ.slash_reward_bps, econ.sample_bps
    )
    # approvals can be challenged in games the approver defends: the game reads who approved which window
    chain.transact(chain.contract("DisputeGame").functions.setVerifierPool(pool), label="setVerifierPool")
    # the lockers are wired once, for good: Staking has no owner left who could add one or move anyone's stake
    chain.transact(chain.contract("Staking").functions.wire([market, pool]), label="wire")
    addresses = {
        "Staking": staking,
        "JobMarket": market,
        "OneStep": one_step,
        "DisputeGame": game,
        "VerifierPool": pool,
    }
    write_deployments(deployments, chain.w3.eth.chain_id, addresses)
    return addresses
