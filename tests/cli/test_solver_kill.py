"""`trainyard solver run` killed with SIGKILL while it trains, twice, and started again: it resumes from its last
checkpoint (no window is trained or committed twice), finishes the job and is paid; its stake is intact."""

import os
import re
import signal
import subprocess
import sys
import time

import yaml
from test_cli import EXAMPLE

from trainyard.cli import main
from trainyard.config import read_deployments
from trainyard.devnet import advance_time, dev_keys
from trainyard.jobs import JobState
from trainyard.market import Market

ETH = 10**18


def start(env, log, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "trainyard.cli", "solver", "run", "--price", "0.2", "--poll", "0.1", *extra],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )


def test_a_killed_solver_resumes_from_its_last_checkpoint_and_is_paid(devnet, tmp_path, monkeypatch):
    from eth_account import Account

    from trainyard.chain import Chain

    keys = dev_keys(3)
    home = tmp_path / "home"
    monkeypatch.setenv("TRAINYARD_HOME", str(home))
    monkeypatch.setenv("TRAINYARD_RPC_URL", devnet.url)
    monkeypatch.setenv("TRAINYARD_PRIVATE_KEY", keys[1])
    assert main(["deploy"]) == 0
    spec = yaml.safe_load(EXAMPLE.read_text())
    spec["dataset"] = "sklearn:digits"
    spec["training"].update(steps=2000, checkpoint_interval=250)  # 8 windows, a few seconds of training
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(spec))
    assert main(["submit", str(tmp_path / "job.yaml")]) == 0
    chain = Chain(devnet.url, read_deployments(home / "deployments.json", 31337), Account.from_key(keys[1]))
    market = Market(chain)
    solver = Account.from_key(keys[2]).address
    env = {**os.environ, "TRAINYARD_PRIVATE_KEY": keys[2], "PYTHONUNBUFFERED": "1"}
    env.pop("OMP_NUM_THREADS", None)
    logs = [(tmp_path / f"solver{i}.log").open("w") for i in range(3)]
    proc = start(env, logs[0])
    kills: list[int] = []  # windows committed when each kill happened
    deadline = time.time() + 240
    try:
        while time.time() < deadline:
            job = market.job(1)
            if job.state is JobState.FINALIZED and market.stake_info(solver).credits == 0:
                break
            if job.state is JobState.BIDDING and job.bid_count:
                advance_time(chain.w3, job.bid_deadline - chain.now() + 1)
            elif job.state is JobState.REVEALING and market.bid(1, 0)["revealed"]:
                advance_time(chain.w3, job.reveal_deadline - chain.now() + 1)
            elif job.state is JobState.CHALLENGE:
                advance_time(chain.w3, job.finalize_at - chain.now() + 1)
            elif job.state is JobState.TRAINING and len(kills) < 2 and job.leaf_count >= 2 + 3 * len(kills):
                proc.send_signal(signal.SIGKILL)  # in the middle of the next window's training
                proc.wait(timeout=10)
                kills.append(job.leaf_count)
                proc = start(env, logs[len(kills)], *(["--threads", "2"] if len(kills) == 2 else []))
            time.sleep(0.1)
        else:
            raise AssertionError(f"the job did not finish: {market.job(1).state}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for f in logs:
            f.close()
    assert len(kills) == 2
    info = market.stake_info(solver)
    assert info.free + info.locked == 2 * ETH  # its stake is all there
    assert market.job(1).price == int(0.2 * ETH)
    committed = []
    for i in range(3):
        committed += [
            int(w) for w in re.findall(r"window (\d+)/8 committed", (tmp_path / f"solver{i}.log").read_text())
        ]
    assert sorted(committed) == list(range(1, 9))  # every window committed exactly once, across three processes
    after_kill = [int(w) for w in re.findall(r"window (\d+)/8 committed", (tmp_path / "solver1.log").read_text())]
    assert after_kill and after_kill[0] == kills[0] + 1  # resumed at the next window, from its checkpoint
    # one torch thread unless told (the last process was started with --threads 2); the speed of every window
    logs_text = [(tmp_path / f"solver{i}.log").read_text() for i in range(3)]
    assert ", 1 torch thread); Ctrl-C" in logs_text[0] and ", 1 torch thread); Ctrl-C" in logs_text[1]
    assert ", 2 torch threads); Ctrl-C" in logs_text[2]
    speeds = re.findall(r"window \d+/8 committed \(step \d+, trained at ([\d,]+) steps/s\)", "".join(logs_text))
    assert len(speeds) == 8 and all(int(v.replace(",", "")) > 0 for v in speeds)
