"""Where things are: the node, the contracts, the key and the store.

Settings come from the environment (and CLI flags, which override it):

=========================  =====================================================================
``TRAINYARD_HOME``         folder for local state (default ``./.trainyard``): store, agent DBs
``TRAINYARD_RPC_URL``      JSON-RPC endpoint (default ``http://127.0.0.1:8545``)
``TRAINYARD_DEPLOYMENTS``  deployments file (default ``$TRAINYARD_HOME/deployments.json``)
``TRAINYARD_MARKET``       a JobMarket address: the other contracts are read from the chain (the file is not read)
``TRAINYARD_STORE``        content store folder (default ``$TRAINYARD_HOME/store``)
``TRAINYARD_IPFS_API``     an IPFS node's RPC API (Kubo, e.g. ``http://127.0.0.1:5001``) to use as the store
``TRAINYARD_GATEWAYS``     other agents' stores to read from, comma-separated URLs (``http://host:port``,
                           served by ``trainyard store serve``); every object is checked against its CID
``TRAINYARD_PRIVATE_KEY``  hex private key of the account that signs, or
``TRAINYARD_KEYSTORE``     an encrypted JSON keystore file, with ``TRAINYARD_KEYSTORE_PASSWORD``
=========================  =====================================================================

The deployments file maps a chain id to contract addresses; the deploy step writes it. The other parties of a
market need only ``TRAINYARD_MARKET`` (see :mod:`trainyard.deployments`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

from trainyard.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    home: Path
    rpc_url: str
    deployments: Path
    store: Path
    private_key: str | None = field(default=None, repr=False)
    keystore: Path | None = None
    keystore_password: str | None = field(default=None, repr=False)
    gateways: tuple[str, ...] = ()
    ipfs_api: str | None = None
    market: str | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        home = Path(str(overrides.get("home") or env.get("TRAINYARD_HOME") or ".trainyard"))
        ks = overrides.get("keystore") or env.get("TRAINYARD_KEYSTORE")
        return cls(
            home=home,
            rpc_url=str(overrides.get("rpc_url") or env.get("TRAINYARD_RPC_URL") or "http://127.0.0.1:8545"),
            deployments=Path(
                str(overrides.get("deployments") or env.get("TRAINYARD_DEPLOYMENTS") or home / "deployments.json")
            ),
            store=Path(str(overrides.get("store") or env.get("TRAINYARD_STORE") or home / "store")),
            private_key=str(overrides.get("private_key") or env.get("TRAINYARD_PRIVATE_KEY") or "") or None,
            keystore=Path(str(ks)) if ks else None,
            keystore_password=env.get("TRAINYARD_KEYSTORE_PASSWORD"),
            gateways=tuple(g.strip() for g in env.get("TRAINYARD_GATEWAYS", "").split(",") if g.strip()),
            ipfs_api=env.get("TRAINYARD_IPFS_API") or None,
            market=str(overrides.get("market") or env.get("TRAINYARD_MARKET") or "").strip() or None,
        )

    def account(self) -> LocalAccount:
        """The signing account; a clear error, never the key, if it is missing or malformed."""
        # Account.from_key is declared to return a LocalAccount, but eth-utils' untyped @combomethod hides that.
        account: LocalAccount
        if self.private_key:
            try:
                account = Account.from_key(self.private_key)
                return account
            except (ValueError, TypeError):
                raise ConfigError(
                    "TRAINYARD_PRIVATE_KEY is not a valid private key (expected 32 bytes as hex)"
                ) from None
        if self.keystore:
            if self.keystore_password is None:
                raise ConfigError("TRAINYARD_KEYSTORE is set but TRAINYARD_KEYSTORE_PASSWORD is not")
            try:
                data = json.loads(self.keystore.read_text())
                account = Account.from_key(Account.decrypt(data, self.keystore_password))
                return account
            except OSError as exc:
                raise ConfigError(f"cannot read keystore {self.keystore}: {exc.strerror}") from None
            except ValueError:
                raise ConfigError(
                    f"cannot decrypt keystore {self.keystore}: wrong password or not a keystore"
                ) from None
        raise ConfigError("no signing key: set TRAINYARD_PRIVATE_KEY, or TRAINYARD_KEYSTORE and its password")


def no_deployments(path: Path, chain_id: int) -> ConfigError:
    """The one line a party gets whose home knows no market on this chain: join the deployer's, don't deploy another."""
    return ConfigError(
        f"this home has no deployments for chain {chain_id} ({path}): set TRAINYARD_DEPLOYMENTS=<the deployer's file> "
        "or TRAINYARD_MARKET=<address>, or deploy a new market with `trainyard deploy`"
    )


def read_deployments(path: Path, chain_id: int) -> dict[str, ChecksumAddress]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise no_deployments(path, chain_id) from None
    except ValueError:
        raise ConfigError(f"{path} is not valid JSON") from None
    found = data.get(str(chain_id)) if isinstance(data, dict) else None
    if not found:
        raise no_deployments(path, chain_id)
    try:
        return {name: to_checksum_address(address) for name, address in dict(found).items()}
    except ValueError:
        raise ConfigError(f"{path} has a malformed address for chain id {chain_id}: deploy again") from None


def write_deployments(path: Path, chain_id: int, addresses: Mapping[str, str]) -> None:
    data = json.loads(path.read_text()) if path.exists() else {}
    data[str(chain_id)] = dict(addresses)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
