"""A thin chain client on web3.py: compiled artifacts, signed transactions, decoded custom errors.

The agents need only this (never brownie) at run time. Artifacts are the JSON files ``brownie compile`` writes to
``build/contracts``; every custom error of every artifact is indexed by selector so that a revert becomes a
:class:`~trainyard.errors.ContractError` that names the error and its arguments.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any, TypeVar, cast

from eth_abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_account.types import TransactionDictType
from eth_typing import ChecksumAddress, Hash32
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import (
    BadFunctionCallOutput,
    ContractCustomError,
    ContractLogicError,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import EventData, TxParams, TxReceipt, Wei

from trainyard.config import ROOT
from trainyard.errors import ChainError, ConfigError, ContractError, TrainyardError

BUILD_DIR = ROOT / "build" / "contracts"
RETRIES = 5  # a node unreachable for 0.25 + 0.5 + 1 + 2 + 4 s is reported as down
BACKOFF_S = 0.25
log = logging.getLogger("trainyard.chain")
T = TypeVar("T")

# What a person should do about an error, keyed by custom error name; {args} are the decoded arguments.
HINTS: dict[str, str] = {
    "StakingInsufficientFreeStake": "deposit more with `trainyard stake deposit AMOUNT` or wait for locked stake",
    "StakingNotWithdrawable": "request a withdrawal first; it can be withdrawn after the unbonding delay",
    "StakingNoCredit": "there is nothing to claim",
    "JobMarketNoCredit": "there is nothing to claim",
    "JobMarketInvalidState": "see `trainyard status {jobId}` for what the job is waiting for",
    "JobMarketNotSubmitter": "only the account that posted the job may do this",
    "JobMarketNotWinner": "only the solver that won the auction may do this",
    "JobMarketHasBids": "a job can be cancelled only before any bid",
    "JobMarketCommitmentMismatch": "the price or salt differs from the sealed bid",
    "JobMarketDeadlineNotReached": "nothing is due yet",
    "JobMarketUnknownJob": "no job has that id",
}


def _state_name(v: object) -> str:
    from trainyard.jobs import JobState

    if not isinstance(v, int):
        return str(v)
    try:
        return JobState(v).label
    except ValueError:
        return str(v)


# How to show an argument, by its name in the ABI.
_FORMATS = {"state": _state_name, "expected": _state_name}


@cache
def artifact(name: str, build_dir: Path = BUILD_DIR) -> dict[str, Any]:
    path = build_dir / f"{name}.json"
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise ConfigError(f"no compiled artifact {path}: run `make compile` (brownie compile) first") from None


def _abi_type(inp: dict[str, Any]) -> str:
    kind: str = inp["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in inp["components"]) + ")" + kind[5:]
    return kind


@dataclass(frozen=True)
class ErrorABI:
    name: str
    names: tuple[str, ...]
    types: tuple[str, ...]


@cache
def error_index(names: tuple[str, ...], build_dir: Path = BUILD_DIR) -> dict[bytes, ErrorABI]:
    index: dict[bytes, ErrorABI] = {}
    for contract in names:
        for item in artifact(contract, build_dir)["abi"]:
            if item.get("type") != "error":
                continue
            types = tuple(_abi_type(i) for i in item["inputs"])
            sig = f"{item['name']}({','.join(types)})"
            index[keccak(text=sig)[:4]] = ErrorABI(item["name"], tuple(i["name"] for i in item["inputs"]), types)
    return index


def decode_revert(data: bytes | str, contracts: Sequence[str]) -> ContractError:
    """Turn revert data into a ContractError with a message a person can act on."""
    raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else bytes(data)
    if len(raw) < 4:
        return ContractError("the transaction reverted without a reason")
    if raw[:4] == keccak(text="Error(string)")[:4]:
        (reason,) = abi_decode(["string"], raw[4:])
        return ContractError(f"reverted: {reason}")
    err = error_index(tuple(contracts)).get(raw[:4])
    if err is None:
        return ContractError(f"reverted with unknown error 0x{raw[:4].hex()}")
    values = abi_decode(list(err.types), raw[4:])
    shown = ", ".join(f"{n}={_FORMATS.get(n, _show)(v)}" for n, v in zip(err.names, values, strict=True))
    args = dict(zip(err.names, values, strict=True))
    hint = HINTS.get(err.name)
    msg = f"{err.name}({shown})" + (": " + hint.format(**args) if hint else "")
    return ContractError(msg, err.name, tuple(values))


def _show(v: object) -> str:
    if isinstance(v, bytes):
        return "0x" + v.hex()
    return str(v)


@dataclass
class GasRecord:
    label: str
    sender: str
    gas_used: int
    fee: int  # wei paid for gas


class Chain:
    """A connection, an optional signing account and the deployed contracts by name."""

    def __init__(
        self,
        rpc_url: str,
        addresses: Mapping[str, str],
        account: LocalAccount | None = None,
        *,
        build_dir: Path = BUILD_DIR,
        gas_log: list[GasRecord] | None = None,
    ) -> None:
        # retries are ours (every call, sends included, with the repairs a send needs): web3's own are off
        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}, exception_retry_configuration=None))
        self.rpc_url = rpc_url
        self.retries = RETRIES
        self.account = account
        self.addresses = {k: to_checksum_address(v) for k, v in addresses.items()}
        self.build_dir = build_dir
        self.gas_log = gas_log if gas_log is not None else []
        self._contracts: dict[str, Contract] = {}

    # -- reading ------------------------------------------------------------------------------------------
    def contract(self, name: str) -> Contract:
        if name not in self._contracts:
            if name not in self.addresses:
                raise ConfigError(f"no address for {name} in the deployments file")
            abi = artifact(name, self.build_dir)["abi"]
            self._contracts[name] = self.w3.eth.contract(address=self.addresses[name], abi=abi)
        return self._contracts[name]

    @property
    def address(self) -> ChecksumAddress:
        if self.account is None:
            raise ConfigError("this command signs transactions: set TRAINYARD_PRIVATE_KEY or TRAINYARD_KEYSTORE")
        return self.account.address

    def retry(self, what: str, fn: Callable[[], T]) -> T:
        """``fn()``, retried with exponential backoff while the node cannot be reached (connection refused or reset,
        timeouts, HTTP errors); a node that stays away becomes a ChainError saying so."""
        for attempt in range(self.retries + 1):
            try:
                return fn()
            except OSError as exc:  # requests' ConnectionError, Timeout and HTTPError are OSErrors
                if attempt == self.retries:
                    raise ChainError(
                        f"the node at {self.rpc_url} did not answer ({what}) after {self.retries + 1} tries: "
                        f"{type(exc).__name__}; is it running?"
                    ) from None
                log.warning("node at %s: %s failed (%s), retrying", self.rpc_url, what, type(exc).__name__)
                time.sleep(BACKOFF_S * 2**attempt)
        raise AssertionError("unreachable")

    def now(self) -> int:
        return int(self.retry("get_block", lambda: self.w3.eth.get_block("latest"))["timestamp"])

    def balance(self, address: str | None = None) -> int:
        who = to_checksum_address(address or self.address)
        return int(self.retry("get_balance", lambda: self.w3.eth.get_balance(who)))

    def call(self, fn: ContractFunction) -> Any:
        try:
            return self.retry(fn.fn_name, fn.call)
        except ContractCustomError as exc:
            raise decode_revert(str(exc.data), tuple(self.addresses)) from None
        except ContractLogicError as exc:
            raise ContractError(f"call reverted: {exc}") from None
        except BadFunctionCallOutput:
            raise self._missing_code(fn.address) from None
        except Web3RPCError as exc:
            raise ChainError(f"the node at {self.rpc_url} failed: {exc}") from None

    def _missing_code(self, address: str) -> TrainyardError:
        code = self.retry("get_code", lambda: self.w3.eth.get_code(to_checksum_address(address)))
        if len(code) == 0:
            return ConfigError(
                f"no contract at {address} on the node at {self.rpc_url}: the node was restarted (a devnet forgets "
                "everything) or the deployments file is for another chain; deploy again with `trainyard deploy`"
            )
        return ChainError(f"{address} answered with data that does not fit its ABI: is the build directory current?")

    def check_deployed(self) -> None:
        """Every contract of the deployments file has code on this node; ConfigError naming the first that has
        none (a restarted devnet, a deployments file for another chain)."""
        for address in self.addresses.values():
            if len(self.retry("get_code", partial(self.w3.eth.get_code, address))) == 0:
                raise self._missing_code(address)

    def estimate(self, fn: ContractFunction, *, value: int = 0) -> int:
        """The gas ``fn`` would use, sent by this account with ``value``: the node simulates it and nothing is
        sent; a revert is decoded and raised as :meth:`transact` would before sending."""
        params: TxParams = {"from": self.address, "value": Wei(value)}
        try:
            return int(self.retry(f"estimate {fn.fn_name}", lambda: fn.estimate_gas(params)))
        except ContractCustomError as exc:
            raise decode_revert(str(exc.data), tuple(self.addresses)) from None
        except ContractLogicError as exc:
            raise ContractError(f"{fn.fn_name} would revert: {exc}") from None
        except Web3RPCError as exc:
            msg = str(exc)
            if "insufficient funds" in msg:
                raise ChainError(f"{self.address} has not enough ETH for {fn.fn_name} (value {value} wei plus gas)") \
                    from None
            raise ChainError(f"{fn.fn_name}: the node refused: {msg[:300]}") from None

    # -- writing ------------------------------------------------------------------------------------------
    def transact(
        self, fn: ContractFunction | ContractConstructor, *, value: int = 0, label: str | None = None
    ) -> TxReceipt:
        """Estimate (a revert is decoded and raised before anything is sent), sign, send, wait. A send whose answer
        is lost is not sent twice: the same signed transaction is resent and recognised if the node already has it;
        a nonce taken meanwhile (a replaced transaction) is repaired by signing again with the next one."""
        sender = self.address
        assert self.account is not None
        name = getattr(fn, "fn_name", "deploy")
        params: TxParams = {"from": sender, "value": Wei(value)}
        try:
            gas = self.retry(f"estimate {name}", lambda: fn.estimate_gas(params))
            for _ in range(3):  # nonce repairs
                nonce = self.retry(
                    "get_transaction_count", lambda: self.w3.eth.get_transaction_count(sender, "pending")
                )
                chain_id = self.retry("chain_id", lambda: self.w3.eth.chain_id)
                tx: TxParams = fn.build_transaction(
                    {**params, "gas": int(gas * 1.2) + 20_000, "nonce": nonce, "chainId": chain_id}
                )
                # web3's TxParams and eth-account's transaction dict describe the same mapping; neither names the other
                signed = self.account.sign_transaction(cast(TransactionDictType, tx))
                tx_hash = self._send(signed.raw_transaction, Hash32(bytes(signed.hash)))
                if tx_hash is not None:
                    break
                log.warning("nonce %d of %s was taken by another transaction; signing again", nonce, sender)
            else:
                raise ChainError(f"{name}: could not find a free nonce for {sender}")
        except ContractCustomError as exc:
            raise decode_revert(str(exc.data), tuple(self.addresses)) from None
        except ContractLogicError as exc:
            raise ContractError(f"{name} would revert: {exc}") from None
        except BadFunctionCallOutput:
            raise self._missing_code(getattr(fn, "address", "")) from None
        except Web3RPCError as exc:
            msg = str(exc)
            if "insufficient funds" in msg:
                raise ChainError(f"{sender} has not enough ETH for {name} (value {value} wei plus gas)") from None
            raise ChainError(f"{name}: the node refused: {msg[:300]}") from None
        receipt = self.retry(
            "wait_for_transaction_receipt", lambda: self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        )
        if receipt["status"] != 1:
            raise ContractError(f"{name} reverted on chain (tx 0x{bytes(tx_hash).hex()})")
        fee = int(receipt["gasUsed"]) * int(receipt.get("effectiveGasPrice", 0))
        self.gas_log.append(GasRecord(label or name, sender, int(receipt["gasUsed"]), fee))
        return receipt

    def _send(self, raw: bytes, tx_hash: Hash32) -> Hash32 | None:
        """Send a signed transaction; its hash, or None if its nonce was used by another transaction."""
        sent_before = False
        for attempt in range(self.retries + 1):
            try:
                return Hash32(bytes(self.w3.eth.send_raw_transaction(raw)))
            except OSError as exc:
                sent_before = True  # it may have arrived: the answer is what was lost
                if attempt == self.retries:
                    raise ChainError(
                        f"the node at {self.rpc_url} did not take the transaction after "
                        f"{self.retries + 1} tries: {type(exc).__name__}"
                    ) from None
                log.warning(
                    "node at %s: send failed (%s), resending the same transaction", self.rpc_url, type(exc).__name__
                )
                time.sleep(BACKOFF_S * 2**attempt)
            except Web3RPCError as exc:
                msg = str(exc).lower()
                if "already known" in msg or "already imported" in msg:
                    return tx_hash
                if "nonce too low" in msg or "nonce has already been used" in msg:
                    if sent_before and self._known(tx_hash):
                        return tx_hash  # ours, mined after a lost answer
                    return None
                raise
        raise AssertionError("unreachable")

    def _known(self, tx_hash: Hash32) -> bool:
        try:
            self.retry("get_transaction", lambda: self.w3.eth.get_transaction(tx_hash))
            return True
        except TransactionNotFound:
            return False

    def deploy(self, name: str, *args: Any) -> ChecksumAddress:
        art = artifact(name, self.build_dir)
        factory = self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        receipt = self.transact(factory.constructor(*args), label=f"deploy {name}")
        if receipt["contractAddress"] is None:
            raise ChainError(f"deploying {name} created no contract (tx 0x{bytes(receipt['transactionHash']).hex()})")
        address = to_checksum_address(receipt["contractAddress"])
        self.addresses[name] = address
        return address

    def events(self, contract: str, event: str, from_block: int = 0, **filters: Any) -> list[EventData]:
        ev = getattr(self.contract(contract).events, event)
        return list(
            self.retry(
                f"get_logs {event}", lambda: ev.get_logs(from_block=from_block, argument_filters=filters or None)
            )
        )
