"""A market round with challengers, driven tick by tick on a devnet: a submitter posts a job, solver agents bid and
train (a solver may be given a cheating computation), challenger agents re-execute and dispute, the devnet clock
jumps to the next deadline whenever nobody acts. Used by the demo's second round and the adversarial tests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_typing import ChecksumAddress
from web3.types import RPCEndpoint

from trainyard.chain import Chain, GasRecord
from trainyard.challenger.agent import ChallengerAgent
from trainyard.challenger.logic import ChallengerPolicy
from trainyard.challenger.memory import ChallengerMemory
from trainyard.deploy import Economics, deploy
from trainyard.devnet import advance_time, dev_keys
from trainyard.dispute.client import DisputeClient
from trainyard.dispute.oracle import ExactOracle
from trainyard.jobs import JobState
from trainyard.market import Market
from trainyard.pool import PoolClient
from trainyard.solver.agent import SolverAgent
from trainyard.solver.logic import SolverPolicy
from trainyard.solver.memory import SolverMemory
from trainyard.spec import load_spec
from trainyard.store import ContentStore, LocalStore
from trainyard.submitter import post, prepare

log = logging.getLogger("trainyard.rounds")
ETH = 10**18
OracleFactory = Callable[[Any, Any], ExactOracle]


class Crash(BaseException):
    """An agent process killed (a BaseException: no agent code catches it)."""


class Crashes:
    """Seeded kills for the restart tests: after a transaction is mined, an armed agent dies with probability
    ``after_tx`` (before it can record anything); between ticks it is restarted with probability ``between``. A
    killed or restarted agent is rebuilt from its SQLite file and the store, as a new process would be."""

    def __init__(self, seed: int, after_tx: float = 0.15, between: float = 0.2) -> None:
        import random

        self.rng = random.Random(seed)
        self.after_tx, self.between = after_tx, between
        self._dead: set[str] = set()
        self.kills = 0

    def arm(self, role: str, chain: Chain) -> None:
        send = chain.transact

        def transact(*args: Any, **kwargs: Any) -> Any:
            receipt = send(*args, **kwargs)
            if self.rng.random() < self.after_tx:
                self._dead.add(role)
                self.kills += 1
                raise Crash(role)
            return receipt

        chain.transact = transact  # type: ignore[method-assign]  # a fault injector wraps this one chain's sends

    def crashed(self, role: str) -> bool:
        if role in self._dead:
            self._dead.discard(role)
            return True
        return False

    def restart(self, role: str) -> bool:
        return self.rng.random() < self.between


@dataclass(frozen=True)
class SolverSpec:
    name: str
    price: int
    oracle: OracleFactory | None = None  # None: the exact runtime
    store: Callable[[ContentStore], ContentStore] | None = None  # e.g. a store that withholds checkpoints
    defend: bool = True  # False: never answers a dispute


@dataclass(frozen=True)
class ChallengerSpec:
    name: str
    policy: ChallengerPolicy
    oracle: OracleFactory | None = None
    pool: bool = False  # joins the verifier pool
    agent: type[ChallengerAgent] = ChallengerAgent


@dataclass
class RoundResult:
    job_id: int
    state: JobState
    addresses: dict[str, ChecksumAddress]  # role -> address
    contracts: dict[str, ChecksumAddress]
    start: dict[str, int]  # wallet balances before
    end: dict[str, int] = field(default_factory=dict)
    gas: list[GasRecord] = field(default_factory=list)
    games: list[int] = field(default_factory=list)
    chains: dict[str, Chain] = field(default_factory=dict)
    restarts: int = 0

    def fees(self, role: str) -> int:
        return sum(g.fee for g in self.gas if g.sender == self.addresses[role])

    def delta(self, role: str) -> int:
        """Change of a role's wallet, gas fees added back: what it gained or lost in the market."""
        return self.end[role] - self.start[role] + self.fees(role)


def run_contested_round(
    rpc_url: str,
    home: Path,
    spec_path: Path,
    solvers: list[SolverSpec],
    challengers: list[ChallengerSpec],
    *,
    econ: Economics = Economics(),
    max_ticks: int = 2000,
    verification_fee: int = 0,
    crashes: Crashes | None = None,
    on_tick: Callable[[int], None] | None = None,
) -> RoundResult:
    gas: list[GasRecord] = []
    roles = ["deployer", "submitter", *[s.name for s in solvers], *[c.name for c in challengers]]
    keys = dev_keys(len(roles) + 1)[1:]  # account 0 produces the blocks and takes the tips
    chains = {r: Chain(rpc_url, {}, Account.from_key(k), gas_log=gas) for r, k in zip(roles, keys, strict=True)}
    if crashes is not None:
        for r in [s.name for s in solvers] + [c.name for c in challengers]:
            crashes.arm(r, chains[r])
    contracts = deploy(chains["deployer"], home / "deployments.json", econ)
    for c in chains.values():
        c.addresses.update(contracts)
    store = LocalStore(home / "store")
    start = {r: c.balance() for r, c in chains.items()}
    # pool members join before the job exists, so that the draw can pick them
    def new_challenger(c: ChallengerSpec) -> ChallengerAgent:
        return c.agent(Market(chains[c.name]), store, ChallengerMemory(home / f"{c.name}.sqlite"), c.policy,
                       name=c.name, oracle_factory=c.oracle, pool=c.pool)

    def new_solver(s: SolverSpec) -> SolverAgent:
        return SolverAgent(Market(chains[s.name]), s.store(store) if s.store else store,
                           SolverMemory(home / f"{s.name}.sqlite"), SolverPolicy(price=s.price, target_stake=2 * ETH),
                           name=s.name, show_progress=False, oracle_factory=s.oracle, defend=s.defend)

    challenger_agents = [new_challenger(c) for c in challengers]
    for a in challenger_agents:
        a.tick()
    job_id = post(Market(chains["submitter"]), prepare(load_spec(spec_path), store))
    if verification_fee:
        PoolClient(chains["submitter"]).fund(job_id, verification_fee)

    # every agent by role, with how to start it again (a new process: only its SQLite file and the store survive)
    factories: dict[str, Callable[[], SolverAgent | ChallengerAgent]] = {
        s.name: partial(new_solver, s) for s in solvers
    }
    factories.update({c.name: partial(new_challenger, c) for c in challengers})
    agents: dict[str, SolverAgent | ChallengerAgent] = {s.name: new_solver(s) for s in solvers}
    agents.update({c.name: a for c, a in zip(challengers, challenger_agents, strict=True)})
    restarts = 0
    sub = Market(chains["submitter"])
    games = DisputeClient(chains["deployer"])
    w3 = chains["deployer"].w3
    idle_blocks = 0
    for tick in range(max_ticks):
        if on_tick is not None:
            on_tick(tick)
        acted = 0
        for name in factories:
            try:
                acted += bool(agents[name].tick())  # a solver's actions, a challenger's Activity: falsy when idle
            except Crash:
                acted += 1
            if crashes is not None and (crashes.crashed(name) or crashes.restart(name)):
                agents[name] = factories[name]()
                restarts += 1
        job = sub.job(job_id)
        live = games.live_games(job_id)
        # a funded verification ends with its settlement, after the challenge period (an approval can be challenged
        # until then, also once the job is decided)
        verifying = bool(verification_fee) and not PoolClient(chains["submitter"]).assignment(job_id).settled
        if job.state.is_over and not live and not acted and not verifying:
            break
        if acted:
            idle_blocks = 0
            continue
        if idle_blocks < 2:  # let blocks pass before time jumps (a draw waits for the hash of a later block)
            w3.provider.make_request(RPCEndpoint("evm_mine"), [])
            idle_blocks += 1
            continue
        idle_blocks = 0
        now = chains["deployer"].now()
        waits = [
            t for t in (job.bid_deadline, job.reveal_deadline, job.finalize_at, job.train_deadline) if t and t >= now
        ]
        waits += [games.view(g).deadline for g in live]
        if not waits:
            raise RuntimeError(f"round stuck: job {job_id} is {job.state.label} and nobody acts")
        advance_time(w3, min(waits) - now + 1)
    else:
        raise RuntimeError("the round did not finish")
    for _ in range(3):  # settle the pool, collect what the challengers won
        for challenger in challengers:
            agents[challenger.name].tick()
    sub.claim()
    if "VerifierPool" in contracts:
        PoolClient(chains["submitter"]).claim()
    return RoundResult(
        job_id=job_id,
        state=sub.job(job_id).state,
        addresses={r: c.address for r, c in chains.items()},
        contracts=contracts,
        start=start,
        end={r: c.balance() for r, c in chains.items()},
        gas=gas,
        games=games.games_of_job(job_id),
        chains=chains,
        restarts=restarts,
    )
