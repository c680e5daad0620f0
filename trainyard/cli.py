"""``trainyard``: the command line of every role.

Errors a user can act on are printed as one line and exit with code 2, before any transaction is sent.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from trainyard.errors import NodeUnreachable, TrainyardError

if TYPE_CHECKING:  # imported where used, so that `trainyard --help` does not load web3 and torch
    from trainyard.config import Settings
    from trainyard.market import Market
    from trainyard.spec import JobSpec
    from trainyard.store import ContentStore

ETH = 10**18


def fmt_eth(wei: int) -> str:
    if wei % 10**12:
        return f"{wei} wei"
    return f"{wei / ETH:.6f}".rstrip("0").rstrip(".") + " ETH"


def _settings(args: argparse.Namespace) -> Settings:
    from trainyard.config import Settings

    return Settings.from_env(home=args.home, rpc_url=args.rpc_url)


def _market(args: argparse.Namespace, sign: bool = True) -> Market:
    from trainyard.chain import Chain
    from trainyard.deployments import addresses_for
    from trainyard.market import Market

    s = _settings(args)
    account = s.account() if sign else None
    chain = Chain(s.rpc_url, {}, account)
    try:
        chain_id = chain.w3.eth.chain_id
    except Exception:  # noqa: BLE001 - any transport failure
        raise NodeUnreachable(f"cannot reach an Ethereum node at {s.rpc_url} (set TRAINYARD_RPC_URL)") from None
    chain.addresses.update(addresses_for(chain, s, chain_id))
    return Market(chain)


def _store(args: argparse.Namespace, keep: bool = True) -> ContentStore:
    """The content store the settings name; with ``keep=False`` what is read from gateways is not kept locally."""
    from trainyard.store import READ_HINT, LocalStore

    s = _settings(args)
    base: ContentStore = LocalStore(s.store, missing_hint="" if s.gateways else READ_HINT)
    if s.ipfs_api:
        from trainyard.kubo import KuboStore

        base = KuboStore(s.ipfs_api)
    if s.gateways:
        from trainyard.gateway import GatewayStore

        return GatewayStore(base, s.gateways, keep=keep)
    return base


def cmd_explorer(args: argparse.Namespace) -> int:
    import uvicorn

    from trainyard.explorer import explorer_app

    market = _market(args, sign=False)
    app = explorer_app(market.chain, _store(args))
    print(f"explorer at http://{args.host}:{args.port}/ (chain {market.chain.rpc_url}); Ctrl-C to stop")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_store_serve(args: argparse.Namespace) -> int:
    from trainyard.gateway import Gateway
    from trainyard.store import LocalStore

    s = _settings(args)
    gw = Gateway(LocalStore(s.store), host=args.host, port=args.port).start()
    print(f"serving {s.store} at {gw.url}/ipfs/<cid> (every object checked against its CID); Ctrl-C to stop")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        gw.stop()
        print("stopped")
    return 0


def parse_eth(text: str) -> int:
    from trainyard.spec import parse_amount

    return parse_amount(text if any(c.isalpha() for c in text) else f"{text} ether", "amount")


# -- verbs --------------------------------------------------------------------------------------------------
def cmd_deploy(args: argparse.Namespace) -> int:
    from trainyard.chain import Chain
    from trainyard.deploy import deploy

    s = _settings(args)
    addresses = deploy(Chain(s.rpc_url, {}, s.account()), s.deployments)
    for name, addr in addresses.items():
        print(f"{name}: {addr}")
    print(f"written to {s.deployments}")
    print(f"the other parties join this market with: export TRAINYARD_MARKET={addresses['JobMarket']}")
    return 0


def fmt_duration(secs: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size and secs % size == 0:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def cmd_submit(args: argparse.Namespace) -> int:
    from trainyard.spec import load_spec
    from trainyard.submitter import post, prepare

    spec = load_spec(args.spec)  # every check before any key, node or transaction is touched
    fee = parse_eth(args.verification_fee) if args.verification_fee else 0
    if args.dry_run:
        return _dry_run(args, spec, fee)
    market = _market(args)
    prepared = prepare(spec, _store(args))
    job_id = post(market, prepared)
    print(f"job {job_id} posted: {spec.name}, escrow {fmt_eth(spec.market.max_price)}, spec {prepared.spec_cid}")
    if fee:
        from trainyard.pool import PoolClient

        PoolClient(market.chain).fund(job_id, fee)
        print(f"verification funded with {fmt_eth(fee)}: a verifier from the pool will be drawn once the result is in")
    print("job data is public: anyone can read the spec and the dataset")
    return 0


def _dry_run(args: argparse.Namespace, spec: JobSpec, fee: int) -> int:
    """`submit --dry-run`: every check `submit` makes, the contract's own by a simulated postJob when a node answers;
    nothing stored, nothing sent."""
    from trainyard.submitter import check_funds, prepare

    p = prepare(spec, _store(args, keep=False), keep=False)
    d, m, t = p.data, spec.market, spec.training
    made = [("standardised on the train rows" if spec.dataset.standardize else ""),
            (f"CSV, label column {spec.dataset.label or 'label'!r}" if spec.dataset.is_csv else "")]
    lines = [
        f"job:      {spec.name}: {spec.arch} {'-'.join(map(str, spec.layers))}, {t.steps} steps in "
        f"{t.num_windows} windows of {t.checkpoint_interval}, batch {t.batch_size}",
        f"data:     {spec.dataset.source}: {len(d.y)} rows ({len(d.train_index)} train, {len(d.test_index)} test), "
        f"{d.n_features} features, {d.n_classes} classes" + "".join(f"; {x}" for x in made if x),
        f"would store: dataset {p.dataset_cid}, spec {p.spec_cid}",
        f"would post: escrow {fmt_eth(m.max_price)} (max_price), stake per bid {fmt_eth(m.stake_per_bid)}"
        + (f", verification fee {fmt_eth(fee)}" if fee else ""),
        f"periods:  bid {fmt_duration(m.bid_period)}, reveal {fmt_duration(m.reveal_period)}, "
        f"train {fmt_duration(m.train_period)}, challenge {fmt_duration(m.challenge_period)}",
    ]
    try:
        market = _market(args)
    except NodeUnreachable:
        url = _settings(args).rpc_url
        lines.append(f"node:     none answers at {url}: the node, the deployments and the balance are not checked")
    else:
        chain = market.chain
        chain.check_deployed()
        if fee:
            chain.contract("VerifierPool")  # a fee needs the pool in the deployments
        have = check_funds(market, p, fee)
        gas = market.estimate_post_job(p.core, p.spec_cid, t.num_windows, m)
        at = chain.addresses["JobMarket"]
        lines.append(f"node:     {chain.rpc_url} (chain {chain.w3.eth.chain_id}), JobMarket at {at}")
        shown = f"{have / ETH:.6f}".rstrip("0").rstrip(".")
        lines.append(f"account:  {chain.address} holds {shown} ETH; postJob would pass, using about {gas} gas")
    for line in lines:
        print(line)
    print("dry run: nothing stored, nothing posted")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from trainyard.status import describe_job, job_table

    market = _market(args, sign=False)
    if args.job is None:
        print(job_table(market, _store(args)))
    else:
        print(describe_job(market, args.job, _store(args)))
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from trainyard.status import fetch_model

    if args.recompute:  # may train: the agents' thread count (trainyard.threads)
        from trainyard.threads import choose_threads, use_threads

        use_threads(choose_threads(None))
    out = fetch_model(_market(args, sign=False), _store(args), args.job, Path(args.out) if args.out else None,
                      recompute=args.recompute)
    for line in out:
        print(line)
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    market = _market(args)
    market.cancel(args.job)
    print(f"job {args.job} cancelled; its escrow is now a credit: `trainyard claim`")
    return 0


def cmd_poke(args: argparse.Namespace) -> int:
    from trainyard.status import poke

    print(poke(_market(args), args.job))
    return 0


def cmd_claim(args: argparse.Namespace) -> int:
    got = _market(args).claim()
    print(f"claimed {fmt_eth(got)}" if got else "nothing to claim")
    return 0


def cmd_stake(args: argparse.Namespace) -> int:
    from trainyard.status import display_now, when

    market = _market(args)
    if args.action == "deposit":
        market.deposit(parse_eth(args.amount))
    elif args.action == "withdraw":
        info = market.stake_info()
        if args.amount:
            market.request_withdrawal(parse_eth(args.amount))
            info = market.stake_info()
            now = display_now(market.chain.now())
            print(
                f"withdrawal of {fmt_eth(info.unbonding)} requested; it can be withdrawn "
                f"{when(now, info.release_at)} (`trainyard stake withdraw`); a running solver agent does not "
                "deposit it back"
            )
            return 0
        if info.unbonding == 0:
            raise TrainyardError(
                "nothing is unbonding: request a withdrawal first with `trainyard stake withdraw AMOUNT`"
            )
        if market.chain.now() < info.release_at:
            raise TrainyardError(
                f"{fmt_eth(info.unbonding)} unbonds {when(display_now(market.chain.now()), info.release_at)}"
            )
        market.withdraw()
        print(f"withdrew {fmt_eth(info.unbonding)} to {market.chain.address}")
    info = market.stake_info()
    now = display_now(market.chain.now())
    print(f"account:   {market.chain.address}")
    print(f"free:      {fmt_eth(info.free)}")
    print(f"locked:    {fmt_eth(info.locked)}")
    print(f"unbonding: {fmt_eth(info.unbonding)}"
          + (f" (withdrawable {when(now, info.release_at)})" if info.unbonding else ""))
    print(f"credits:   {fmt_eth(info.credits)}" + (" (`trainyard claim`)" if info.credits else ""))
    return 0


def _threads(args: argparse.Namespace) -> str:
    """Set torch's thread count for an agent that trains (trainyard.threads); say what it is."""
    from trainyard.threads import choose_threads, use_threads

    n = use_threads(choose_threads(args.threads))
    return f"{n} torch thread" + ("s" if n != 1 else "")


def cmd_solver_run(args: argparse.Namespace) -> int:
    from trainyard.solver.agent import SolverAgent
    from trainyard.solver.logic import SolverPolicy
    from trainyard.solver.memory import SolverMemory
    from trainyard.spec import parse_duration

    threads = _threads(args)
    s = _settings(args)
    market = _market(args)
    db = Path(args.db) if args.db else s.home / f"solver-{market.chain.address.lower()}.sqlite"
    agent = SolverAgent(
        market,
        _store(args),
        SolverMemory(db),
        SolverPolicy(
            price=parse_eth(args.price),
            target_stake=parse_eth(args.stake),
            min_train_period=parse_duration(args.min_train_period, "--min-train-period"),
            max_lock=parse_duration(args.max_lock, "--max-lock"),
        ),
    )
    if not s.ipfs_api:  # verifiers read its checkpoints from here (with an IPFS node, they are on IPFS)
        from trainyard.gateway import serve_store
        from trainyard.store import LocalStore

        gw = serve_store(LocalStore(s.store), args.serve)
        if gw is not None:
            print(f"serving its store at {gw.url}/ipfs/<cid>: verifiers list {gw.url} in TRAINYARD_GATEWAYS")
    print(f"solver {market.chain.address} running (state in {db}, {threads}); Ctrl-C to stop")
    try:
        agent.run(poll_s=args.poll)
    except KeyboardInterrupt:
        print("stopped")
    return 0


def cmd_challenger_run(args: argparse.Namespace) -> int:
    """`trainyard verifier run` and `trainyard whistleblower run`: the same agent, two policies."""
    import os

    from trainyard.challenger.agent import ChallengerAgent
    from trainyard.challenger.logic import ChallengerPolicy
    from trainyard.challenger.memory import ChallengerMemory

    role = args.cmd
    try:
        ChallengerPolicy(sample_rate=args.sample_rate, degree=args.degree)
    except ValueError as exc:
        raise TrainyardError(str(exc)) from None
    threads = _threads(args)
    s = _settings(args)
    market = _market(args)
    db = Path(args.db) if args.db else s.home / f"{role}-{market.chain.address.lower()}.sqlite"
    secret_file = s.home / f"{role}-{market.chain.address.lower()}.secret"
    if not secret_file.exists():  # the sample seed: kept, so a restarted verifier samples the same windows
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        secret_file.write_bytes(os.urandom(32))
        secret_file.chmod(0o600)
    policy = ChallengerPolicy(
        sample_rate=args.sample_rate,
        after_result=role == "whistleblower",
        degree=args.degree,
        secret=secret_file.read_bytes(),
    )
    agent = ChallengerAgent(market, _store(args), ChallengerMemory(db), policy, name=role, pool=args.pool)
    what = "every window of each result" if role == "whistleblower" else f"{args.sample_rate:.0%} of each job's windows"
    print(f"{role} {market.chain.address} re-executing {what} (state in {db}, {threads}); Ctrl-C to stop")
    try:
        agent.run(poll_s=args.poll)
    except KeyboardInterrupt:
        print("stopped")
    return 0


def _password(args: argparse.Namespace, confirm: bool) -> str:
    import getpass
    import os

    if args.password_file:
        return Path(args.password_file).read_text().rstrip("\n")
    if os.environ.get("TRAINYARD_KEYSTORE_PASSWORD"):
        return os.environ["TRAINYARD_KEYSTORE_PASSWORD"]
    if not sys.stdin.isatty():
        raise TrainyardError("no password: use --password-file, TRAINYARD_KEYSTORE_PASSWORD, or a terminal prompt")
    pw = getpass.getpass("keystore password: ")
    if confirm and getpass.getpass("again: ") != pw:
        raise TrainyardError("the passwords differ")
    return pw


def cmd_account(args: argparse.Namespace) -> int:
    from trainyard import accounts

    home = _settings(args).home
    if args.action == "list":
        found = accounts.list_accounts(home)
        for address, path in found:
            print(f"{address}  {path}")
        if not found:
            print(f"no keystores in {accounts.keystore_dir(home)}")
        return 0
    if args.action == "new":
        address, path = accounts.new_account(home, _password(args, confirm=True))
    else:
        import getpass

        key = getpass.getpass("private key (hex, not echoed): ") if sys.stdin.isatty() else sys.stdin.readline()
        address, path = accounts.import_key(home, key, _password(args, confirm=True))
    print(f"{address}  {path}")
    print(f"use it with TRAINYARD_KEYSTORE={path} and its password")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="trainyard", description="Verifiable ML training markets on Ethereum")
    p.add_argument("--home", help="local state folder (default $TRAINYARD_HOME or ./.trainyard)")
    p.add_argument("--rpc-url", help="JSON-RPC URL (default $TRAINYARD_RPC_URL or http://127.0.0.1:8545)")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="cmd", required=True)

    sp = sub.add_parser("account", help="encrypted keystores: new, import (key on stdin or prompt), list")
    sp.add_argument("action", choices=["new", "import", "list"])
    sp.add_argument("--password-file", help="read the keystore password from this file")
    sp.set_defaults(fn=cmd_account)
    sub.add_parser("deploy", help="deploy the contracts and write the deployments file").set_defaults(fn=cmd_deploy)
    sp = sub.add_parser("submit", help="validate a job spec, store it with its data, post it")
    sp.add_argument("spec")
    sp.add_argument("--verification-fee", help="ETH paid to a verifier drawn from the pool if it approves the result")
    sp.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything (spec, data, limits, price, stake; the node, the deployments and the balance when a "
        "node answers, by simulating postJob) and print what would be posted; store and send nothing",
    )
    sp.set_defaults(fn=cmd_submit)
    sp = sub.add_parser("status", help="a job's life from chain events, or a table of all jobs")
    sp.add_argument("job", nargs="?", type=int)
    sp.set_defaults(fn=cmd_status)
    sp = sub.add_parser("fetch", help="the trained model, checked against its CID and the trace's last root")
    sp.add_argument("job", type=int)
    sp.add_argument("-o", "--out", help="output folder (default ./job-<id>)")
    sp.add_argument(
        "--recompute",
        action="store_true",
        help="if the solver's file is missing or wrong, train the model again from the last checkpoint "
        "that matches the trace (exact training) and check it against the trace",
    )
    sp.set_defaults(fn=cmd_fetch)
    sp = sub.add_parser("cancel", help="cancel your job before any bid")
    sp.add_argument("job", type=int)
    sp.set_defaults(fn=cmd_cancel)
    sp = sub.add_parser("poke", help="trigger whatever timeout or settlement is due for a job")
    sp.add_argument("job", type=int)
    sp.set_defaults(fn=cmd_poke)
    sub.add_parser("claim", help="withdraw your credits (payments, refunds, rewards)").set_defaults(fn=cmd_claim)
    sp = sub.add_parser("stake", help="deposit, withdraw or show your stake")
    sp.add_argument("action", choices=["deposit", "withdraw", "status"])
    sp.add_argument("amount", nargs="?", help="e.g. 1.5 (ETH) or '100 gwei'")
    sp.set_defaults(fn=cmd_stake)
    sp = sub.add_parser("explorer", help="a local web page of jobs, disputes, stakes and plots, live from the chain")
    sp.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sp.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    sp.set_defaults(fn=cmd_explorer)
    sp = sub.add_parser("store", help="serve this machine's content store to other agents over HTTP")
    ssp = sp.add_subparsers(dest="store_cmd", required=True)
    sv = ssp.add_parser("serve", help="GET /ipfs/<cid> (IPFS gateway paths); others read it with TRAINYARD_GATEWAYS")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    sv.set_defaults(fn=cmd_store_serve)
    sp = sub.add_parser("solver", help="run a solver agent")
    ssub = sp.add_subparsers(dest="solver_cmd", required=True)
    sr = ssub.add_parser("run", help="stake, bid, train, commit, get paid")
    sr.add_argument("--price", default="0.1", help="what you ask per job, ETH (default 0.1)")
    sr.add_argument("--stake", default="2", help="stake to keep deposited, ETH (default 2)")
    sr.add_argument("--poll", type=float, default=2.0, help="seconds between looks at the chain")
    sr.add_argument("--db", help="SQLite state file (default $TRAINYARD_HOME/solver-<address>.sqlite)")
    sr.add_argument(
        "--min-train-period",
        default="10m",
        help="skip jobs whose training period is shorter (e.g. 30m, 2h; default 10m): set it to what this "
        "machine needs, or a submitter can post a job nobody can finish in time and take the stake",
    )
    sr.add_argument(
        "--serve",
        help="HOST:PORT where it serves its store, so that verifiers can read its checkpoints (default "
        "127.0.0.1:8081, or a free port if that one is taken; `off`: not served)",
    )
    sr.add_argument("--max-lock", default="90d", help="skip jobs that would lock the bid's stake longer (default 90d)")
    sr.add_argument(
        "--threads",
        type=int,
        help="torch threads for training (default: $OMP_NUM_THREADS if set, else 1; the runtime's small matrices "
        "gain nothing from more, and a busy machine loses much)",
    )
    sr.set_defaults(fn=cmd_solver_run)
    for role, rate, text in (
        (
            "verifier",
            0.25,
            "re-execute a sample of every job's windows as they are committed; dispute a wrong one and play the game",
        ),
        (
            "whistleblower",
            1.0,
            "re-check submitted results during their challenge period; dispute a wrong one and play the game",
        ),
    ):
        sp = sub.add_parser(role, help=f"run a {role} agent")
        rsub = sp.add_subparsers(dest=f"{role}_cmd", required=True)
        rr = rsub.add_parser("run", help=text)
        rr.add_argument(
            "--sample-rate", type=float, default=rate, help=f"fraction of windows re-executed (default {rate})"
        )
        rr.add_argument("--degree", type=int, default=2, help="dissection degree of the games it opens, 2..16")
        rr.add_argument(
            "--pool",
            action="store_true",
            default=False,
            help="join the verifier pool (locks its stake): be drawn for funded jobs, approve them, earn fees",
        )
        rr.add_argument("--poll", type=float, default=2.0, help="seconds between looks at the chain")
        rr.add_argument("--db", help=f"SQLite state file (default $TRAINYARD_HOME/{role}-<address>.sqlite)")
        rr.add_argument(
            "--threads",
            type=int,
            help="torch threads for training (default: $OMP_NUM_THREADS if set, else 1; the runtime's small matrices "
            "gain nothing from more, and a busy machine loses much)",
        )
        rr.set_defaults(fn=cmd_challenger_run)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    agent = args.cmd in ("solver", "verifier", "whistleblower")
    logging.basicConfig(
        level=logging.INFO if args.verbose or agent else logging.WARNING,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
    )
    if args.cmd == "stake" and args.action == "deposit" and not args.amount:
        print("error: stake deposit needs an amount, e.g. `trainyard stake deposit 2`", file=sys.stderr)
        return 2
    try:
        return int(args.fn(args))
    except TrainyardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
