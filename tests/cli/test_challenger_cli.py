"""`trainyard verifier run --pool` as its own process, the way an operator runs it: it joins the pool, is drawn for
a funded job, finds the cheating solver's wrong window, plays the game to the end and is paid."""

import os
import subprocess
import sys
import time

from trainyard.cli import main
from trainyard.devnet import advance_time, dev_keys
from trainyard.dispute import scenario as sc
from trainyard.dispute.client import DisputeClient
from trainyard.dispute.oracle import ExactOracle, Tamper
from trainyard.jobs import JobState
from trainyard.market import Market
from trainyard.pool import PoolClient
from trainyard.solver.agent import SolverAgent
from trainyard.solver.logic import SolverPolicy
from trainyard.solver.memory import SolverMemory
from trainyard.store import LocalStore

ETH = 10**18


def nudge(live, start):
    w = live["l0.weight"].clone()
    w.view(-1)[7] += 3
    live["l0.weight"] = w


def test_verifier_process_catches_a_cheater(devnet, tmp_path, monkeypatch):
    from eth_account import Account

    from trainyard.chain import Chain
    from trainyard.config import read_deployments

    keys = dev_keys(5)
    home = tmp_path / "home"
    monkeypatch.setenv("TRAINYARD_HOME", str(home))
    monkeypatch.setenv("TRAINYARD_RPC_URL", devnet.url)
    monkeypatch.setenv("TRAINYARD_PRIVATE_KEY", keys[1])
    assert main(["deploy"]) == 0
    env = {**os.environ, "TRAINYARD_PRIVATE_KEY": keys[3], "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "verifier.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "trainyard.cli", "verifier", "run", "--pool", "--sample-rate", "1",
                             "--poll", "0.2"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        addresses = read_deployments(home / "deployments.json", 31337)
        solver_chain = Chain(devnet.url, addresses, Account.from_key(keys[2]))
        pool = PoolClient(solver_chain)
        deadline = time.time() + 60
        while not pool.verifiers() and time.time() < deadline:
            time.sleep(0.2)
        assert pool.verifiers(), "the verifier did not join the pool"
        assert main(["submit", str(sc.write_tiny_job(tmp_path / "job")), "--verification-fee", "0.01"]) == 0
        solver = SolverAgent(Market(solver_chain), LocalStore(home / "store"), SolverMemory(tmp_path / "s.sqlite"),
                             SolverPolicy(price=ETH // 10, target_stake=2 * ETH), show_progress=False,
                             oracle_factory=lambda cfg, data: ExactOracle(cfg, data, (Tamper(9, 11, nudge),)))
        market = Market(solver_chain)
        w3 = solver_chain.w3
        deadline = time.time() + 180
        while time.time() < deadline:
            acted = solver.tick()
            job = market.job(1)
            if job.state is JobState.SLASHED:
                break
            if not acted and job.state in (JobState.BIDDING, JobState.REVEALING):
                advance_time(
                    w3,
                    max(
                        1,
                        (job.bid_deadline if job.state is JobState.BIDDING else job.reveal_deadline)
                        - solver_chain.now()
                        + 1,
                    ),
                )
            time.sleep(0.3)  # the verifier runs at its own pace: the clock never jumps past its challenge period
        assert market.job(1).state is JobState.SLASHED
        verifier = Account.from_key(keys[3]).address
        game = DisputeClient(solver_chain)
        assert game.raw(game.games_of_job(1)[0])["challenger"] == verifier
        time.sleep(2)  # it claims its reward once it is idle
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
    out = (tmp_path / "verifier.log").read_text()
    assert "joined the verifier pool" in out and "is WRONG" in out and "opened game" in out
    assert "Traceback" not in out
