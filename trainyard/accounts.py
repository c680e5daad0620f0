"""Encrypted JSON keystores (the format geth and foundry use), kept in ``$TRAINYARD_HOME/keystore``.

No private key is ever printed or logged: ``new`` and ``import`` print the address only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account

from trainyard.errors import ConfigError


def keystore_dir(home: Path) -> Path:
    return home / "keystore"


def _write(home: Path, key: bytes, password: str) -> tuple[str, Path]:
    if not password:
        raise ConfigError("refusing an empty keystore password")
    acct = Account.from_key(key)
    data = Account.encrypt(key, password)
    folder = keystore_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{acct.address.lower()[2:]}.json"
    if path.exists():
        raise ConfigError(f"{acct.address} already has a keystore at {path}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    return str(acct.address), path


def new_account(home: Path, password: str) -> tuple[str, Path]:
    return _write(home, os.urandom(32), password)


def import_key(home: Path, private_key: str, password: str) -> tuple[str, Path]:
    try:
        key = bytes(Account.from_key(private_key.strip()).key)
    except (ValueError, TypeError):
        raise ConfigError("that is not a valid private key (expected 32 bytes as hex)") from None
    return _write(home, key, password)


def list_accounts(home: Path) -> list[tuple[str, Path]]:
    out = []
    for path in sorted(keystore_dir(home).glob("*.json")):
        try:
            out.append(("0x" + json.loads(path.read_text())["address"], path))
        except (ValueError, KeyError):
            continue
    return out
