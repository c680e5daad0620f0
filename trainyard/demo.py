"""``make demo``: one full market round on a local Anvil devnet that this script starts and stops.

A submitter posts the digits job of ``examples/digits.yaml``; three solvers with different asking prices stake and
bid in the sealed-bid auction; the lowest bidder wins, trains with the exact runtime, commits a checkpoint trace
root per window, submits the model and is paid the second-lowest price. The devnet's clock is moved forward
whenever every agent is waiting on a deadline, so the round takes as long as the training does.

A second round (:mod:`trainyard.demo_dispute`) has a cheating solver win the same job; a verifier catches it and
the dispute game proves one op wrong on chain.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trainyard.chain import Chain, GasRecord
from trainyard.config import ROOT
from trainyard.demo_dispute import report as report_dispute
from trainyard.demo_dispute import run_cheating_round
from trainyard.deploy import deploy
from trainyard.devnet import Devnet, advance_time, dev_keys
from trainyard.jobs import JobState
from trainyard.market import Market
from trainyard.solver.agent import SolverAgent
from trainyard.solver.logic import SolverPolicy
from trainyard.solver.memory import SolverMemory
from trainyard.spec import load_spec
from trainyard.store import LocalStore
from trainyard.submitter import post, prepare
from trainyard.threads import choose_threads, use_threads

if TYPE_CHECKING:
    from trainyard.runtime.model import TrainConfig

ETH = 10**18
SOLVER_PRICES = (0.20, 0.30, 0.35)  # ETH asked by solvers A, B, C


@dataclass
class Party:
    role: str
    chain: Chain
    start_balance: int = 0

    @property
    def address(self) -> str:
        return self.chain.address


@dataclass
class DemoResult:
    job_id: int
    state: JobState
    winner: str
    price: int
    parties: list[Party]
    balances: dict[str, int]  # address -> wallet balance at the end
    stakes: dict[str, int]  # address -> free + locked stake at the end
    gas: list[GasRecord] = field(default_factory=list)
    accuracy: float | None = None
    contract_balances: dict[str, int] = field(default_factory=dict)


def _next_deadline(market: Market, job_id: int, now: int) -> int | None:
    job = market.job(job_id)
    for t in (job.bid_deadline, job.reveal_deadline, job.finalize_at):
        if t and t > now:
            return t
    return None


def run_round(
    rpc_url: str, home: Path, spec_path: Path, *, show_progress: bool = True, max_ticks: int = 500
) -> DemoResult:
    keys = dev_keys(6)[1:]  # Anvil's account 0 is the block producer: it receives every gas tip
    gas: list[GasRecord] = []
    from eth_account import Account

    def party(role: str, key: str) -> Party:
        return Party(role, Chain(rpc_url, {}, Account.from_key(key), gas_log=gas))

    deployer = party("deployer", keys[0])
    submitter = party("submitter", keys[1])
    solvers = [party(f"solver {n}", k) for n, k in zip("ABC", keys[2:5], strict=True)]
    parties = [deployer, submitter, *solvers]
    for p in parties:
        p.start_balance = p.chain.balance()
    addresses = deploy(deployer.chain, home / "deployments.json")
    for p in parties:
        p.chain.addresses.update(addresses)
    store = LocalStore(home / "store")

    spec = load_spec(spec_path)
    sub_market = Market(submitter.chain)
    job_id = post(sub_market, prepare(spec, store))
    print(
        f"submitter posted job {job_id} ({spec.name}): escrow {spec.market.max_price / ETH:g} ETH, "
        f"{spec.training.steps} steps in {spec.training.num_windows} windows"
    )

    agents = [
        SolverAgent(
            Market(p.chain),
            store,
            SolverMemory(home / f"{p.role.replace(' ', '-')}.sqlite"),
            SolverPolicy(price=int(price * ETH), target_stake=2 * ETH),
            name=p.role,
            show_progress=show_progress,
        )
        for p, price in zip(solvers, SOLVER_PRICES, strict=True)
    ]
    w3 = deployer.chain.w3
    for _ in range(max_ticks):
        acted = sum(len(a.tick()) for a in agents)
        job = sub_market.job(job_id)
        if job.state.is_over and not acted:
            break
        if not acted:
            now = deployer.chain.now()
            t = _next_deadline(sub_market, job_id, now)
            if t is None:
                raise RuntimeError(f"demo stuck: job {job_id} is {job.state.label} and nobody acts")
            advance_time(w3, t - now)
            print(f"  (devnet clock moved {t - now} s forward to the next deadline)")
    else:
        raise RuntimeError("demo did not finish")
    refund = sub_market.claim()
    print(f"submitter claimed its refund of {refund / ETH:g} ETH (escrow minus the price paid)")

    job = sub_market.job(job_id)
    result = DemoResult(
        job_id=job_id,
        state=job.state,
        winner=job.winner,
        price=job.price,
        parties=parties,
        balances={p.address: p.chain.balance() for p in parties},
        stakes={p.address: (lambda i: i.free + i.locked)(sub_market.stake_info(p.address)) for p in parties},
        gas=gas,
        contract_balances={n: deployer.chain.balance(a) for n, a in addresses.items()},
    )
    try:
        from trainyard import runtime as rt
        from trainyard.status import model_cid

        blob = store.get(model_cid(sub_market, job_id))
        doc_data = rt.Dataset.from_npz_bytes(store.get(_dataset_cid(store, job.spec_cid)))
        result.accuracy = rt.evaluate(_cfg(store, job.spec_cid), doc_data, rt.load_checkpoint(blob))
    except Exception as exc:  # noqa: BLE001 - reporting only
        print(f"(could not evaluate the model: {exc})")
    return result


def _dataset_cid(store: LocalStore, spec_cid: str) -> str:
    import json

    return str(json.loads(store.get(spec_cid))["dataset"]["cid"])


def _cfg(store: LocalStore, spec_cid: str) -> TrainConfig:
    import json

    from trainyard import runtime as rt

    d = json.loads(store.get(spec_cid))
    return rt.TrainConfig.from_spec(d["model"]["layers"], d["training"])


def report(r: DemoResult) -> str:
    lines = [f"\njob {r.job_id}: {r.state.label}; winner {r.winner}, paid {r.price / ETH:g} ETH (second-lowest bid)"]
    if r.accuracy is not None:
        lines.append(f"trained model: test accuracy {r.accuracy:.3f} on the digits test split")
    fees: dict[str, int] = defaultdict(int)
    for g in r.gas:
        fees[g.sender] += g.fee
    lines.append("\nwho paid and received what (ETH; wallet change = payments + refunds - deposits - gas):")
    lines.append(f"{'role':<10} {'address':<44} {'wallet change':>14} {'stake held':>11} {'gas fees':>10}")
    for p in r.parties:
        delta = r.balances[p.address] - p.start_balance
        lines.append(
            f"{p.role:<10} {p.address:<44} {delta / ETH:>+14.6f} {r.stakes[p.address] / ETH:>11.4f} "
            f"{fees[p.address] / ETH:>10.6f}"
        )
    lines.append("contracts: " + ", ".join(f"{n} holds {b / ETH:g} ETH" for n, b in r.contract_balances.items()))
    by_label: dict[str, list[int]] = defaultdict(list)
    for g in r.gas:
        by_label[g.label].append(g.gas_used)
    lines.append(f"\n{'call':<30} {'count':>5} {'gas each (avg)':>15} {'total gas':>10}")
    for label, used in by_label.items():
        lines.append(f"{label:<30} {len(used):>5} {sum(used) // len(used):>15,} {sum(used):>10,}")
    lines.append(f"{'all calls':<30} {len(r.gas):>5} {'':>15} {sum(g.gas_used for g in r.gas):>10,}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m trainyard.demo", description=__doc__)
    ap.add_argument("--spec", default=str(ROOT / "examples" / "digits.yaml"))
    ap.add_argument("--home", help="keep the demo's store and databases here (default: a temporary folder)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="  %(message)s", stream=sys.stdout)
    use_threads(choose_threads(None))  # its agents train in this process: one thread unless OMP_NUM_THREADS says
    with tempfile.TemporaryDirectory(prefix="trainyard-demo-") as tmp:
        home = Path(args.home or tmp)
        with Devnet() as net:
            print(f"Anvil devnet on {net.url} (stopped at the end)")
            result = run_round(net.url, home, Path(args.spec))
            print(report(result))
            print("\n--- round 2: a cheating solver, a verifier, the dispute game ---")
            contested = run_cheating_round(net.url, home / "round2", Path(args.spec))
            print(report_dispute(contested))
    return 0 if result.state is JobState.FINALIZED and contested.state is JobState.SLASHED else 1


if __name__ == "__main__":
    sys.exit(main())
