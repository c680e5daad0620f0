"""docs/quickstart.md, run as written: every ```bash quickstart:<name>``` block of the page is run by bash as its own
process (one Anvil, the parties each with a home and a key of their own), in the page's order, waiting where the page
says to wait. Only free ports and a temporary folder replace 8545, 8080-8082 and /tmp/trainyard-quickstart, so that
runs side by side do not collide. The job must finalize with the pool verifier's approval, and every party must be
paid what the page says."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from trainyard.chain import Chain
from trainyard.deployments import from_market
from trainyard.devnet import free_port
from trainyard.jobs import JobState
from trainyard.market import Market
from trainyard.pool import PoolClient

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "quickstart.md"
ETH = 10**18
BLOCK = re.compile(r"^```bash quickstart:(?P<name>[\w-]+)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
ORDER = ["devnet", "submitter", "solver-a", "solver-b", "verifier", "whistleblower", "clock-bids", "clock-reveals",
         "clock-challenge", "results"]
ACCOUNTS = {  # Anvil's accounts 0, 1 and 3, whose keys the page uses
    "submitter": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "solver-a": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "verifier": "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
}


def blocks(text: str) -> dict[str, str]:
    found = {m["name"]: m["body"] for m in BLOCK.finditer(text)}
    assert list(found) == ORDER, f"docs/quickstart.md's blocks changed: {list(found)}"
    return found


def test_the_page_has_every_block_in_order_and_the_market_address_deploy_prints():
    b = blocks(DOC.read_text())
    market = re.search(r"TRAINYARD_MARKET=(0x[0-9a-fA-F]{40})", b["submitter"])
    assert market and all(market[1] in b[n] for n in [*ORDER[2:6], "results"])


class Quickstart:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.subs = {"8545": str(free_port()), "8080": str(free_port()), "8081": str(free_port()),
                     "8082": str(free_port())}
        self.blocks = blocks(DOC.read_text())
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAINYARD_", "ETH_RPC"))}
        # a busy 2-core machine: torch's default thread count makes every agent crawl (issue 12)
        self.env.update(OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        self.rpc = f"http://127.0.0.1:{self.subs['8545']}"

    def script(self, name: str) -> str:
        body = self.blocks[name].replace("/tmp/trainyard-quickstart", str(self.tmp / "parties"))
        for port, mine in self.subs.items():
            body = re.sub(rf"\b{port}\b", mine, body)
        return "set -e\n" + body

    def start(self, name: str) -> None:
        log = (self.tmp / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(["bash", "-c", self.script(name)], cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def run(self, name: str) -> str:
        done = subprocess.run(["bash", "-c", self.script(name)], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, f"{name}: {done.stdout}\n{done.stderr}"
        return done.stdout

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def wait(self, what: str, ok, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                assert proc.poll() is None, f"{name} exited while waiting for {what}:\n{self.log(name)[-3000:]}"
            try:
                if ok():
                    return
            except Exception:  # noqa: BLE001 - not up yet (node, contracts)
                pass
            time.sleep(0.5)
        logs = "\n".join(f"--- {n}\n{self.log(n)[-1500:]}" for n in self.procs)
        pytest.fail(f"timed out waiting for {what}\n{logs}")

    def stop(self) -> None:
        for proc in reversed(self.procs.values()):  # each block's bash and what it started: its own process group
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


@pytest.fixture
def quickstart(tmp_path):
    q = Quickstart(tmp_path)
    yield q
    q.stop()


def test_the_quickstart_runs_as_separate_processes_and_pays_every_party(quickstart):
    q = quickstart
    q.start("devnet")
    chain = Chain(q.rpc, {})
    q.wait("the devnet", lambda: chain.w3.eth.chain_id == 31337)
    q.start("submitter")
    q.wait("the submitter's store server", lambda: "serving" in q.log("submitter"), timeout=180)
    market_address = re.search(r"export TRAINYARD_MARKET=(0x\w+)", q.log("submitter"))
    assert market_address and market_address[1] in q.blocks["submitter"]  # deploy prints what the page says
    chain.addresses.update(from_market(chain, market_address[1]))
    market, pool = Market(chain), PoolClient(chain)
    assert "job 1 posted" in q.log("submitter")
    for name in ("solver-a", "solver-b", "verifier", "whistleblower"):
        q.start(name)

    q.wait("two sealed bids", lambda: market.job(1).bid_count == 2, timeout=180)
    q.run("clock-bids")
    q.wait("two revealed bids", lambda: all(market.bid(1, i)["revealed"] for i in range(2)))
    q.run("clock-reveals")
    q.wait("the result", lambda: market.job(1).state is JobState.CHALLENGE)
    q.wait("the pool verifier's approval and the whistleblower's checks",
           lambda: "approved job 1" in q.log("verifier") and "job 1 window 3 agrees" in q.log("whistleblower"))
    assert pool.assignment(1).approved and pool.assignment(1).verifier == ACCOUNTS["verifier"]
    q.run("clock-challenge")
    q.wait("the job finalized and everyone paid", lambda: market.job(1).state is JobState.FINALIZED
           and pool.assignment(1).settled and market.stake_info(ACCOUNTS["solver-a"]).credits == 0
           and pool.credit(ACCOUNTS["verifier"]) == 0)

    out = q.run("results")
    assert "finalized" in out and "claimed 0.2 ETH" in out
    assert (q.tmp / "parties" / "model").is_dir()
    paid = {ev["args"]["account"]: ev["args"]["amount"] for ev in chain.events("JobMarket", "CreditClaimed")}
    assert paid[ACCOUNTS["solver-a"]] == 3 * ETH // 10 and paid[ACCOUNTS["submitter"]] == 2 * ETH // 10
    fees = {ev["args"]["account"]: ev["args"]["amount"] for ev in chain.events("VerifierPool", "CreditClaimed")}
    assert fees[ACCOUNTS["verifier"]] >= ETH // 100
    assert market.stake_info(ACCOUNTS["solver-a"]).locked == 0
    for name in q.procs:
        assert "Traceback" not in q.log(name), q.log(name)
