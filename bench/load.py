"""Load: N solver agents and M jobs on one Anvil, the whole market round for every job, with and without kills.

``python -m bench.load [--solvers N] [--jobs M] [--kills]`` prints ``name: value`` lines:

- ``jobs_per_min``: jobs that reached the end of their life (finalized, or refunded when nobody bid in time) per
  minute of wall time, from the first post to the last job's end;
- ``p95_job_latency_s``: the 95th percentile of a job's wall time from its post to its end;
- ``lost_funds_wei``: what honest parties lost, summed over all of them (must be 0): for every solver, its wallet
  change plus the stake and credits it still holds, minus the payments of the jobs it finalized; for every
  submitter, its wallet change plus its credits, plus the prices of its finalized jobs; gas fees are added back.
  The contracts' balances must also equal what they owe (checked, not printed);
- with ``--kills``: ``kills`` (agents killed right after a mined transaction, before they could record it) and
  ``restarts`` (kills plus restarts between ticks); a killed agent is rebuilt from its SQLite file and the store.

Jobs are the tiny spec of ``scenario.write_tiny_job`` (MLP 4-5-3, 16 steps in 4 windows); solvers ask different
prices and keep enough stake to bid on every job. The devnet clock jumps to the next deadline whenever nobody acts.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import tempfile
import time
from pathlib import Path

from eth_account import Account
from eth_typing import ChecksumAddress

from trainyard.chain import Chain, GasRecord
from trainyard.deploy import deploy
from trainyard.devnet import Devnet, advance_time, dev_keys
from trainyard.dispute import scenario as sc
from trainyard.jobs import JobState
from trainyard.market import Market
from trainyard.rounds import Crash, Crashes
from trainyard.solver.agent import SolverAgent
from trainyard.solver.logic import SolverPolicy
from trainyard.solver.memory import SolverMemory
from trainyard.spec import load_spec
from trainyard.store import LocalStore
from trainyard.submitter import post, prepare

ETH = 10**18
SUBMITTERS = 2


def run(n_solvers: int, n_jobs: int, kills: bool, seed: int = 7) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="trainyard-load-"))
    spec = load_spec(sc.write_tiny_job(home / "job"))
    with Devnet(accounts=2 + SUBMITTERS + n_solvers) as net:
        gas: list[GasRecord] = []
        keys = dev_keys(2 + SUBMITTERS + n_solvers)[1:]
        chains = [Chain(net.url, {}, Account.from_key(k), gas_log=gas) for k in keys]
        addresses = deploy(chains[0], home / "deployments.json")
        for c in chains:
            c.addresses.update(addresses)
        submitters, solver_chains = chains[1 : 1 + SUBMITTERS], chains[1 + SUBMITTERS :]
        start = {c.address: c.balance() for c in chains}
        store = LocalStore(home / "store")
        crashes = Crashes(seed) if kills else None
        if crashes:
            for i, c in enumerate(solver_chains):
                crashes.arm(f"solver{i}", c)

        def solver(i: int) -> SolverAgent:
            price = ETH // 20 + i * ETH // 1000
            return SolverAgent(Market(solver_chains[i]), store, SolverMemory(home / f"solver{i}.sqlite"),
                               SolverPolicy(price=price, target_stake=(n_jobs + 2) * ETH), name=f"solver{i}",
                               show_progress=False)

        agents = [solver(i) for i in range(n_solvers)]
        t0 = time.perf_counter()
        posted: dict[int, tuple[float, int]] = {}  # job -> (wall time posted, submitter index)
        prepared = prepare(spec, store)
        for j in range(n_jobs):
            k = j % SUBMITTERS
            posted[post(Market(submitters[k]), prepared)] = (time.perf_counter(), k)
        ended: dict[int, float] = {}
        reader = Market(chains[0])
        w3 = chains[0].w3
        restarts = 0
        while len(ended) < n_jobs:
            acted = 0
            for i in range(n_solvers):
                try:
                    acted += len(agents[i].tick())
                except Crash:
                    acted += 1
                if crashes and (crashes.crashed(f"solver{i}") or crashes.restart(f"solver{i}")):
                    agents[i] = solver(i)
                    restarts += 1
            views = [reader.job(j) for j in posted if j not in ended]
            for v in views:
                if v.state.is_over:
                    ended[v.job_id] = time.perf_counter()
            if acted:
                continue
            now = chains[0].now()
            waits = [t for v in views for t in (v.bid_deadline, v.reveal_deadline, v.finalize_at, v.train_deadline)
                     if t and t >= now]
            if not waits:
                raise RuntimeError("load run stuck: nobody acts and nothing is due")
            advance_time(w3, min(waits) - now + 1)
        wall = time.perf_counter() - t0
        for a in agents:  # let every solver claim what it is owed
            with contextlib.suppress(Crash):
                a.tick()
        for c in submitters:
            Market(c).claim()
        lost = _lost(chains, submitters, solver_chains, posted, start, gas, addresses)
    latencies = sorted(ended[j] - posted[j][0] for j in posted)
    out = {"jobs_per_min": n_jobs / (wall / 60), "p95_job_latency_s": latencies[int(0.95 * (len(latencies) - 1))],
           "lost_funds_wei": lost, "solvers": n_solvers, "jobs": n_jobs}
    if crashes:
        out.update(kills=crashes.kills, restarts=restarts)
    return out


def _lost(
    chains: list[Chain],
    submitters: list[Chain],
    solver_chains: list[Chain],
    posted: dict[int, tuple[float, int]],
    start: dict[ChecksumAddress, int],
    gas: list[GasRecord],
    addresses: dict[str, ChecksumAddress],
) -> int:
    reader = Market(chains[0])
    fees: dict[str, int] = {}
    for g in gas:
        fees[g.sender] = fees.get(g.sender, 0) + g.fee
    paid_to: dict[str, int] = {}
    paid_by: dict[str, int] = {}
    views = {j: reader.job(j) for j in posted}
    for j, (_, k) in posted.items():
        v = views[j]
        if v.state is JobState.FINALIZED:
            paid_to[v.winner] = paid_to.get(v.winner, 0) + v.price
            paid_by[submitters[k].address] = paid_by.get(submitters[k].address, 0) + v.price
    lost = 0
    for c in solver_chains:
        info = reader.stake_info(c.address)
        now = c.balance() - start[c.address] + fees.get(c.address, 0)
        lost += abs(now + info.free + info.locked + info.unbonding + info.credits - paid_to.get(c.address, 0))
    for c in submitters:
        info = reader.stake_info(c.address)
        now = c.balance() - start[c.address] + fees.get(c.address, 0)
        lost += abs(now + info.credits + paid_by.get(c.address, 0))
    staking, market = reader.staking.functions, reader.market.functions
    everyone = [c.address for c in chains]
    held = sum(
        int(reader.chain.call(staking.freeStake(a)))
        + int(reader.chain.call(staking.lockedStake(a)))
        + int(reader.chain.call(staking.unbonding(a))[0])
        + int(reader.chain.call(staking.credits(a)))
        for a in everyone
    )
    assert reader.chain.balance(addresses["Staking"]) == held + int(reader.chain.call(staking.totalBurned()))
    owed = sum(int(reader.chain.call(market.credits(a))) for a in everyone)
    open_escrow = sum(v.price for v in views.values() if not v.state.is_over)
    assert reader.chain.balance(addresses["JobMarket"]) == owed + open_escrow
    return lost


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    ap.add_argument("--solvers", type=int, default=5, help="solver agents (up to 20)")
    ap.add_argument("--jobs", type=int, default=20, help="jobs (up to 200)")
    ap.add_argument("--kills", action="store_true", help="also run with random agent kills")
    args = ap.parse_args(argv)
    random.seed(0)
    runs = [("", run(args.solvers, args.jobs, kills=False))]
    if args.kills:
        runs.append(("_kills", run(args.solvers, args.jobs, kills=True)))
    for suffix, r in runs:
        for k, v in r.items():
            if k in ("solvers", "jobs") and suffix:
                continue
            print(
                f"{k}{suffix if k not in ('kills', 'restarts') else ''}: {v:.2f}"
                if isinstance(v, float)
                else f"{k}{suffix if k not in ('kills', 'restarts') else ''}: {v}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
