"""A local Anvil devnet that this process starts, drives and stops."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from web3 import Web3
from web3.types import RPCEndpoint

from trainyard.errors import ConfigError

# Anvil's default accounts come from this well-known test mnemonic; never use these keys on a real network.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
_ROOT = Path(__file__).resolve().parent.parent


def dev_keys(n: int = 10) -> list[str]:
    """Private keys (hex) of Anvil's first ``n`` default accounts."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return [
        Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").key.hex() for i in range(n)
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def anvil_binary() -> str:
    local = _ROOT / "node_modules" / ".bin" / "anvil"
    if local.exists():
        return str(local)
    found = shutil.which("anvil")
    if not found:
        raise ConfigError("anvil not found: run `make bootstrap` (it installs @foundry-rs/anvil-linux-amd64 from npm)")
    return found


class Devnet:
    """Anvil on a free loopback port; a context manager that stops it on exit."""

    def __init__(self, port: int | None = None, accounts: int = 10, balance_eth: int = 10_000) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._args = [
            anvil_binary(), "--port", str(self.port), "--host", "127.0.0.1", "--accounts", str(accounts),
            "--balance", str(balance_eth), "--mnemonic", DEV_MNEMONIC, "--silent",
            "--gas-limit", "30000000", "--block-base-fee-per-gas", "0",
        ]
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> Devnet:
        self._proc = subprocess.Popen(self._args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        w3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 5}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = (self._proc.stderr.read() if self._proc.stderr else b"").decode(errors="replace")
                raise ConfigError(f"anvil exited at start (port {self.port}): {err.strip()[:300]}")
            try:
                if w3.is_connected():
                    return self
            except Exception:  # noqa: BLE001 - not up yet
                pass
            time.sleep(0.05)
        self.stop()
        raise ConfigError(f"anvil did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None

    def __enter__(self) -> Devnet:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def advance_time(w3: Web3, seconds: int) -> None:
    """Move the devnet's clock forward and mine a block (Anvil/Hardhat RPC)."""
    w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [int(seconds)])
    w3.provider.make_request(RPCEndpoint("evm_mine"), [])


