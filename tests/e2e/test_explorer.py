"""The explorer against a devnet with a real contested job (a cheater caught by a verifier): its JSON API, and the
page rendered by headless Chromium (Debian's, which `make test` installs), with the job table, the dispute
timeline, stakes and both plots drawn by the page's own script."""

import re
import shutil
import subprocess

import pytest
import requests

from trainyard.chain import Chain
from trainyard.challenger.logic import ChallengerPolicy
from trainyard.dispute import scenario as sc
from trainyard.dispute.oracle import ExactOracle, Tamper
from trainyard.explorer import explorer_app
from trainyard.gateway import BackgroundServer
from trainyard.rounds import ChallengerSpec, SolverSpec, run_contested_round
from trainyard.store import LocalStore

ETH = 10**18


def nudge(live, start):
    w = live["l0.weight"].clone()
    w.view(-1)[4] += 5
    live["l0.weight"] = w


@pytest.fixture
def explorer(devnet, tmp_path):
    spec = sc.write_tiny_job(tmp_path / "job")
    r = run_contested_round(
        devnet.url,
        tmp_path / "home",
        spec,
        [SolverSpec("solver", ETH // 5, lambda cfg, data: ExactOracle(cfg, data, (Tamper(9, 11, nudge),)))],
        [ChallengerSpec("verifier", ChallengerPolicy(sample_rate=1.0, secret=b"x"))],
    )
    chain = Chain(devnet.url, r.contracts)
    with BackgroundServer(explorer_app(chain, LocalStore(tmp_path / "home" / "store"))) as server:
        yield server.url, r


def test_api_shows_jobs_games_stakes_and_the_loss_curve(explorer):
    url, r = explorer
    jobs = requests.get(f"{url}/api/jobs").json()
    assert [(j["id"], j["state"], j["committed"]) for j in jobs] == [(1, "slashed", 4)]
    job = requests.get(f"{url}/api/jobs/1").json()
    assert [p["step"] for p in job["loss"]] == [4, 8, 12, 16] and all(p["loss"] > 0 for p in job["loss"])
    assert len(job["bids"]) == 1 and job["bids"][0]["price_eth"] == 0.2
    (game,) = requests.get(f"{url}/api/games").json()
    events = [m["event"] for m in game["moves"]]
    assert events[0] == "GameOpened" and "ValueChecked" in events and events[-1] == "GameEnded"
    assert game["outcome"] == "solver lost"
    txs = {m["tx"] for m in game["moves"]}  # one move per transaction; the proof's transaction also ends the game
    assert len([m for m in game["moves"] if m["gas"] > 21_000]) == len(txs) == len(game["moves"]) - 1
    stakes = {s["address"]: s for s in requests.get(f"{url}/api/stakes").json()}
    assert stakes[r.addresses["solver"]]["slashed_eth"] == 1.0
    assert stakes[r.addresses["verifier"]]["earned_eth"] == 0.5
    assert requests.get(f"{url}/api/jobs/9").status_code == 404


def test_the_page_renders_live_in_headless_chromium(explorer, tmp_path):
    url, _ = explorer
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Chromium is missing: `make test` installs Debian's chromium (apt-get install chromium)"
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            f"{url}/",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'data-ready="yes"' in dom, dom[-2000:]
    assert 'class="state-slashed"' in dom  # the job table, filled by the page's script
    assert "ValueChecked" in dom and 'class="game"' in dom  # the dispute timeline
    assert 'class="loss-line"' in dom and len(re.findall(r'<circle cx="\d', dom)) == 4  # one point per checkpoint
    moves = sum(1 for g in requests.get(f"{url}/api/games").json() for m in g["moves"] if m["gas"])
    assert len(re.findall(r'<rect class="gas-bar" x="\d', dom)) == moves > 10  # one bar per move
    assert "1" in dom and 'class="lost"' in dom  # the slashed stake
