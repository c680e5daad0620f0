"""Attackers as contracts: batch calls atomically from a contract account, and make sock accounts.

`Attacker.sol` (contracts/test) is a contract account its owner drives: ``batch`` sends any list of calls with
value in one transaction, all or nothing, so there is no block boundary between them for anyone else to act in.
"""

from __future__ import annotations

from typing import Any

from brownie import web3


def call(contract: Any, fn: str, *args: Any, value: int = 0) -> tuple[str, int, bytes]:
    """One entry of a batch: ``contract.fn(*args)`` sent with ``value`` wei."""
    data = getattr(contract, fn).encode_input(*args)
    return (str(contract.address), value, bytes.fromhex(data[2:]))


def deploy_attacker(Attacker: Any, owner: Any, funds: int = 0) -> Any:
    """A fresh attacker contract owned by ``owner``, holding ``funds`` wei."""
    return Attacker.deploy({"from": owner, "value": funds})


def batch(attacker: Any, owner: Any, calls: list[tuple[str, int, bytes]], value: int = 0) -> Any:
    """Send ``calls`` from the attacker contract in one atomic transaction."""
    return attacker.batch(calls, {"from": owner, "value": value})


def socks(accounts: Any, n: int, funds: int = 10**19) -> list[Any]:
    """``n`` fresh externally owned accounts with ``funds`` wei each (the attacker controls all of them)."""
    out = []
    for _ in range(n):
        a = accounts.add()
        accounts[0].transfer(a, funds)
        out.append(a)
    return out


def wallet(addr: Any) -> int:
    return int(web3.eth.get_balance(str(addr)))
