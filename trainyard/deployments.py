"""Which contracts a command talks to, found without guessing.

Two sources, in this order:

1. ``TRAINYARD_MARKET=<JobMarket address>``: the one setting every party of a market shares. The other addresses
   are read from the chain through the contracts' public getters (``JobMarket.staking()``, ``oneStep()``,
   ``disputeGame()``; the verifier pool is the Staking locker, announced by ``LockerWired``, whose ``market()`` and
   ``game()`` are this market's), and each is checked to point back at the market.
2. The deployments file (``TRAINYARD_DEPLOYMENTS``, default ``$TRAINYARD_HOME/deployments.json``), which
   ``trainyard deploy`` writes in the deployer's home.

A home with neither gets one line naming both settings, not an invitation to deploy a second market.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_typing import ChecksumAddress
from eth_utils import is_address, to_checksum_address

from trainyard.chain import Chain, artifact
from trainyard.config import Settings, read_deployments
from trainyard.errors import ChainError, ConfigError

ZERO = "0x" + "00" * 20


def market_address(text: str) -> ChecksumAddress:
    """``TRAINYARD_MARKET`` as a checksummed address, or a ConfigError saying what is wrong with it."""
    if not is_address(text.strip()):
        raise ConfigError(f"TRAINYARD_MARKET={text!r} is not an address (expected 0x and 40 hex digits)")
    return to_checksum_address(text.strip())


def resolve(
    settings: Settings, chain_id: int, lookup: Callable[[ChecksumAddress], dict[str, ChecksumAddress]]
) -> dict[str, ChecksumAddress]:
    """The contract addresses for ``chain_id``: from ``lookup(market)`` when TRAINYARD_MARKET is set (the file is
    then not read), else from the deployments file."""
    if settings.market:
        return lookup(market_address(settings.market))
    return read_deployments(settings.deployments, chain_id)


def from_market(chain: Chain, market: ChecksumAddress) -> dict[str, ChecksumAddress]:
    """Every address of the market at ``market``, read from the chain (no transaction, no file)."""
    code = chain.retry("get_code", lambda: chain.w3.eth.get_code(market))
    if len(code) == 0:
        raise ConfigError(
            f"no contract at TRAINYARD_MARKET={market} on the node at {chain.rpc_url}: a restarted devnet forgets "
            "its contracts; ask the deployer for the current address, or deploy a market with `trainyard deploy`"
        )
    probe = Chain(chain.rpc_url, {"JobMarket": market}, build_dir=chain.build_dir)
    try:
        jm = probe.contract("JobMarket").functions
        found = {
            "JobMarket": market,
            "Staking": to_checksum_address(probe.call(jm.staking())),
            "OneStep": to_checksum_address(probe.call(jm.oneStep())),
            "DisputeGame": to_checksum_address(probe.call(jm.disputeGame())),
        }
    except ChainError as exc:
        raise ConfigError(f"TRAINYARD_MARKET={market} is not a Trainyard JobMarket ({exc})") from None
    if found["DisputeGame"] == ZERO:
        raise ConfigError(f"the market at {market} has no dispute game yet: its deployment did not finish")
    probe.addresses.update(found)
    try:
        game = probe.contract("DisputeGame").functions
        if to_checksum_address(probe.call(game.market())) != market:
            raise ConfigError(f"the dispute game of {market} belongs to another market: not a Trainyard deployment")
        for ev in probe.events("Staking", "LockerWired"):
            locker = to_checksum_address(ev["args"]["locker"])
            if locker == market:
                continue
            pool = probe.w3.eth.contract(address=locker, abi=artifact("VerifierPool", chain.build_dir)["abi"]).functions
            if (
                to_checksum_address(probe.call(pool.market())) == market
                and to_checksum_address(probe.call(pool.game())) == found["DisputeGame"]
            ):
                return {**found, "VerifierPool": locker}
    except ChainError as exc:
        raise ConfigError(f"cannot read the contracts of the market at {market}: {exc}") from None
    raise ConfigError(f"the market at {market} has no verifier pool wired to its staking: its deployment is unfinished")


def addresses_for(chain: Chain, settings: Settings, chain_id: int) -> dict[str, ChecksumAddress]:
    """:func:`resolve` with the on-chain lookup over ``chain``."""
    return resolve(settings, chain_id, lambda market: from_market(chain, market))
