"""Gas of every market call and of a whole job lifecycle, on a fresh Anvil.

``python -m bench.gas`` prints ``name: value`` lines: the gas of each call (first use, on the first job), then,
each measured on a later job with no credits outstanding,
``lifecycle_gas`` for post + 3 commitBid + 3 revealBid + one commitTrace that settles the auction on the way (what
the winning solver does) + submitResult + finalize + the two losing bidders' releaseBid of a one-window job (every
call the design needs: settlement no longer returns losing stakes), ``lifecycle_gas_explicit_settle`` with a
separate settleAuction call, and ``lifecycle_gas_4_windows`` with four trace commits.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from eth_account import Account

from trainyard.chain import Chain, GasRecord
from trainyard.deploy import deploy
from trainyard.devnet import Devnet, advance_time, dev_keys
from trainyard.market import Market
from trainyard.spec import MarketSpec
from trainyard.spec_core import SpecCore

ETH = 10**18
LIFECYCLE = ("postJob", "commitBid", "revealBid", "settleAuction", "commitTrace", "submitResult", "finalize",
             "releaseBid")
# a spec core at the example's shape (64 features, 64 hidden, 10 classes, batch 32): postJob checks its limits
CORE = SpecCore(doc_hash=b"\x11" * 32, initial_root=b"\x22" * 32, data_root=b"\x33" * 32, n_train=1437,
                batch_size=32, checkpoint_interval=50, seed=1, lr=6554, momentum=0, layers=(64, 64, 10))


def run_job(markets: list[Market], windows: int, explicit_settle: bool = False) -> list[GasRecord]:
    submitter, solvers = markets[0], markets[1:4]
    log = submitter.chain.gas_log
    start = len(log)
    job = submitter.post_job(CORE, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", windows,
                             MarketSpec(ETH // 2, ETH, 600, 600, 3600, 600))
    idx = [m.commit_bid(job, (2 + i) * ETH // 10, bytes([i + 1]) * 32) for i, m in enumerate(solvers)]
    advance_time(submitter.chain.w3, 600)
    for i, m in enumerate(solvers):
        m.reveal_bid(job, idx[i], (2 + i) * ETH // 10, bytes([i + 1]) * 32)
    advance_time(submitter.chain.w3, 600)
    if explicit_settle:
        submitter.settle(job)
    for k in range(1, windows + 1):
        solvers[0].commit_trace(
            job, bytes([k]) * 32, bytes([k + 1]) * 32, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
        )
    solvers[0].submit_result(job, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
    for i, m in enumerate(solvers[1:], start=1):  # each loser takes its stake back
        m.release_bid(job, idx[i])
    advance_time(submitter.chain.w3, 601)
    submitter.finalize(job)
    out = log[start:]
    for m in markets:  # every lifecycle starts with no credits outstanding, as a fresh party's would
        m.claim()
    return out


def main() -> None:
    keys = dev_keys(6)[1:]
    gas: list[GasRecord] = []
    with Devnet() as net, tempfile.TemporaryDirectory() as tmp:
        chain0 = Chain(net.url, {}, Account.from_key(keys[0]), gas_log=gas)
        addresses = deploy(chain0, Path(tmp) / "deployments.json")
        markets = [Market(Chain(net.url, addresses, Account.from_key(k), gas_log=gas)) for k in keys[:4]]
        for m in markets[1:]:
            m.deposit(3 * ETH)
        run_job(markets, 1)  # the very first job also pays for the job counter's first write: not typical
        explicit = run_job(markets, 1, explicit_settle=True)
        one = run_job(markets, 1)
        four = run_job(markets, 4)
    first: dict[str, int] = {}
    for g in gas:
        first.setdefault(g.label.replace(" ", "_"), g.gas_used)
    for label, used in first.items():
        print(f"{label}: {used}")
    print(f"lifecycle_gas: {sum(g.gas_used for g in one if g.label in LIFECYCLE)}")
    print(f"lifecycle_gas_explicit_settle: {sum(g.gas_used for g in explicit if g.label in LIFECYCLE)}")
    print(f"lifecycle_gas_4_windows: {sum(g.gas_used for g in four if g.label in LIFECYCLE)}")


if __name__ == "__main__":
    main()
