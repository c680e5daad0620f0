"""Attacks on the dispute game (issue 9), each performed by the attacker who would make it: a solver that is a
contract (contracts/test/Attacker.sol: every call of a batch in one atomic transaction), sock accounts, transactions
reordered in a block. Each test asserts that the attack fails and that no honest party lost a wei (wallet plus
credits, gas added back). Then the challenger agent's own failures: a reverted challenge, a job id equal to a game id.

Everything runs on the test's own Anvil (the `devnet` fixture) through the project's web3 clients, so that the game is
played by the real Python parties; the attacker's contract is driven through ``Attacker.batch``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from trainyard.chain import Chain, artifact
from trainyard.challenger.agent import ChallengerAgent, _Job
from trainyard.challenger.logic import ChallengerPolicy
from trainyard.challenger.memory import ChallengerMemory
from trainyard.deploy import Economics
from trainyard.dispute import scenario as sc
from trainyard.dispute.client import DisputeClient, TraceLeaf, open_leaf, play, step_once
from trainyard.dispute.logic import Move, Phase, Timeout
from trainyard.dispute.oracle import ExactOracle, Tamper
from trainyard.errors import ContractError
from trainyard.jobs import JobState, JobView
from trainyard.market import Market, bid_commitment
from trainyard.spec import MarketSpec
from trainyard.spec_core import SpecCore
from trainyard.store import LocalStore

WINDOWS, INTERVAL = 4, 4
CFG = sc.tiny_config(steps=WINDOWS * INTERVAL, interval=INTERVAL)
DATA = sc.tiny_dataset()
TERMS = sc.Terms()
ECON = Economics()
BPS = 10_000
BOND = ECON.challenge_bond
REWARD = TERMS.stake * ECON.slash_reward_bps // BPS
SALT = b"\x01" * 32


def nudge(name: str, by: int = 7) -> Callable[[Any, Any], None]:
    def fn(live: Any, start: Any) -> None:
        t = live[name].clone()
        t.view(-1)[1] += by
        live[name] = t

    return fn


def cheat_in(window: int) -> ExactOracle:
    """A solver's computation that is wrong from a step in ``window`` on (one weight nudged in its SGD update)."""
    return ExactOracle(CFG, DATA, (Tamper(window * INTERVAL + 1, 11, nudge("l0.weight")),))


HONEST = ExactOracle(CFG, DATA)
CORE = sc.core_of(CFG, DATA)


# -- the attacker's tools -----------------------------------------------------------------------------------
class Contracted:
    """An Attacker contract driven by its owner's chain: everything it does is one atomic ``batch``."""

    def __init__(self, owner: Chain) -> None:
        self.owner = owner
        self.address = owner.deploy("Attacker")
        self.contract = owner.w3.eth.contract(address=self.address, abi=artifact("Attacker")["abi"])

    def batch_fn(self, calls: list[tuple[str, int, bytes]]) -> Any:
        return self.contract.functions.batch(calls)

    def batch(self, calls: list[tuple[str, int, bytes]], value: int = 0) -> Any:
        return self.owner.transact(self.batch_fn(calls), value=value, label="batch")


def call(fn: Any, value: int = 0) -> tuple[str, int, bytes]:
    """One entry of a batch: a built contract call, sent with ``value`` wei."""
    return (fn.address, value, bytes.fromhex(fn._encode_transaction_data()[2:]))


class ContractPlayer(DisputeClient):
    """The contract solver's side of a game: the usual moves, sent through its batch."""

    def __init__(self, attacker: Contracted) -> None:
        super().__init__(attacker.owner)
        self.attacker = attacker

    def send(self, game_id: int, move: Move, core: SpecCore) -> None:
        fn, _ = self.move_fn(game_id, move, core)
        self.attacker.batch([call(fn)])


def socks(arena: sc.Arena, n: int, funds: int = 10**18) -> list[Chain]:
    """``n`` fresh accounts of the attacker, funded (the attacker controls any number of them)."""
    out = []
    for _ in range(n):
        acct = Account.create()
        arena.chains["deployer"].w3.provider.make_request("anvil_setBalance", [acct.address, hex(funds)])
        out.append(Chain(arena.rpc_url, dict(arena.addresses), acct, gas_log=arena.gas))
    return out


def contract_solver_wins(arena: sc.Arena, terms: sc.Terms = TERMS) -> tuple[int, Contracted]:
    """The submitter posts a job under CORE; an Attacker contract (owned by the 'solver' account) stakes, bids and
    wins it."""
    solver = Contracted(arena.chains["solver"])
    m = MarketSpec(max_price=terms.price, stake_per_bid=terms.stake, bid_period=600, reveal_period=600,
                   train_period=terms.train_period, challenge_period=terms.challenge_period)
    job = arena.market("submitter").post_job(CORE, "bafkspec", WINDOWS, m)
    market, staking = (
        arena.chains["solver"].contract("JobMarket").functions,
        arena.chains["solver"].contract("Staking").functions,
    )
    solver.batch(
        [
            call(staking.deposit(), terms.stake),
            call(market.commitBid(job, bid_commitment(job, solver.address, terms.price, SALT))),
        ],
        value=terms.stake,
    )
    arena.advance(601)
    solver.batch([call(market.revealBid(job, 0, terms.price, SALT))])
    arena.advance(601)
    return job, solver


def commit_fn(arena: sc.Arena, job: int, oracle: ExactOracle, w: int) -> Any:
    market = arena.chains["solver"].contract("JobMarket").functions
    return market.commitTrace(job, oracle.state_root((w + 1) * INTERVAL), oracle.interior_root(w), f"bafkckpt{w}")


def trace_of(oracle: ExactOracle, leaves: int) -> list[TraceLeaf]:
    return [
        TraceLeaf(oracle.state_root((w + 1) * INTERVAL), f"bafkckpt{w}", oracle.interior_root(w)) for w in range(leaves)
    ]


# -- block building: several transactions in one block, in the attacker's order ------------------------------
class Block:
    """Transactions sent with automine off and mined together, ordered by tip (higher first)."""

    def __init__(self, arena: sc.Arena) -> None:
        self.w3 = arena.chains["deployer"].w3
        self.sent: list[tuple[Chain, bytes]] = []

    def __enter__(self) -> Block:
        self.w3.provider.make_request("evm_setAutomine", [False])
        return self

    def send(self, chain: Chain, fn: Any, value: int = 0, tip: int = 10**9, gas: int = 1_500_000) -> bytes:
        assert chain.account is not None
        tx = fn.build_transaction({"from": chain.address, "value": value, "gas": gas, "chainId": self.w3.eth.chain_id,
                                   "nonce": self.w3.eth.get_transaction_count(chain.address, "pending"),
                                   "maxFeePerGas": tip, "maxPriorityFeePerGas": tip})
        signed = chain.account.sign_transaction(tx)
        h = bytes(self.w3.eth.send_raw_transaction(signed.raw_transaction))
        self.sent.append((chain, h))
        return h

    def __exit__(self, *exc: object) -> None:
        self.w3.provider.make_request("evm_mine", [])
        self.w3.provider.make_request("evm_setAutomine", [True])

    def receipt(self, h: bytes) -> Any:
        return self.w3.eth.get_transaction_receipt(h)

    def fees(self, address: str) -> int:
        return sum(int(r["gasUsed"]) * int(r["effectiveGasPrice"]) for c, h in self.sent if c.address == address
                   for r in [self.receipt(h)])


# -- what honest parties hold -------------------------------------------------------------------------------
def worth(arena: sc.Arena, address: str, extra_fees: int = 0) -> int:
    """Wallet plus every credit and stake of an account, with the gas it paid added back."""
    c = arena.chains["deployer"]
    m = Market(c)
    info = m.stake_info(address)  # credits: Staking's and the market's
    fees = sum(g.fee for g in arena.gas if g.sender == address) + extra_fees
    return (
        c.balance(address)
        + info.free
        + info.locked
        + info.unbonding
        + info.credits
        + DisputeClient(c).credit(address)
        + fees
    )


def game_holds_what_it_owes(arena: sc.Arena, job: int, accounts: list[str]) -> None:
    client = arena.client("deployer")
    held = arena.chains["deployer"].balance(arena.addresses["DisputeGame"])
    live = sum(int(client.raw(g)["bond"]) for g in client.live_games(job))
    owed = sum(client.credit(a) for a in accounts)
    burned = int(client.chain.call(client.game_contract.functions.totalBurned()))
    assert held == live + owed + client.pot(job)[1] + burned


def challenge_args(job: int, trace: list[TraceLeaf], window: int) -> tuple[Any, ...]:
    prev = open_leaf(trace, window - 1) if window > 0 else (b"\x00" * 32, b"\x00" * 32, b"\x00" * 32, [])
    return job, CORE.abi_tuple(), window, len(trace), prev, open_leaf(trace, window), 2


# -- 1. slot squatting ----------------------------------------------------------------------------------------
def test_socks_holding_many_games_cannot_keep_the_honest_challenger_out(devnet, tmp_path):
    arena = sc.arena(devnet.url, tmp_path)
    job, solver = contract_solver_wins(arena)
    cheat = cheat_in(0)
    squatters = socks(arena, 10)  # more than the 8 places the game used to have
    honest = arena.address("challenger")
    start = {r: worth(arena, arena.address(r)) for r in ("submitter", "challenger")}
    # one block: the solver commits its first (fake) leaf and its socks open games on it right behind the commit
    game = arena.chains["solver"].contract("DisputeGame").functions
    with Block(arena) as block:
        block.send(arena.chains["solver"], solver.batch_fn([call(commit_fn(arena, job, cheat, 0))]), tip=10**10)
        for i, s in enumerate(squatters):
            block.send(s, game.challenge(*challenge_args(job, trace_of(cheat, 1), 0)), BOND, tip=10**10 - 1 - i)
    assert all(block.receipt(h)["status"] == 1 for _, h in block.sent)
    client = arena.client("deployer")
    assert client.live_count(job) == len(squatters)
    # the honest verifier still opens its game, in the next block
    gid = arena.client("challenger").challenge(job, CORE, 0)
    assert client.live_count(job) == len(squatters) + 1
    solver.batch([call(commit_fn(arena, job, cheat, w)) for w in range(1, WINDOWS)])
    solver.batch(
        [call(arena.chains["solver"].contract("JobMarket").functions.submitResult(job, f"bafkckpt{WINDOWS - 1}"))]
    )
    # the challenge period runs out with every game live: nobody can finalize while the honest game is open
    arena.advance(TERMS.challenge_period + 1)
    with pytest.raises(ContractError, match="JobMarketInvalidState"):
        arena.market("submitter").finalize(job)
    end = play(
        [(ContractPlayer(solver), "solver", cheat), (arena.client("challenger"), "challenger", HONEST)], gid, CORE
    )
    assert end.phase is Phase.CHALLENGER_WON
    assert arena.market("submitter").job(job).state is JobState.SLASHED
    # the fake trace is not paid; the squatters' games are closed by anyone, each with its share
    assert Market(arena.chains["deployer"]).stake_info(solver.address).credits == 0
    for g in client.live_games(job):
        arena.client("submitter").close(g)
    n = len(squatters) + 1
    assert client.live_count(job) == 0 and arena.market("submitter").job(job).open_disputes == 0
    assert client.credit(honest) == BOND + REWARD // n
    assert sum(client.credit(s.address) for s in squatters) == len(squatters) * BOND + REWARD - REWARD // n
    assert worth(arena, arena.address("submitter")) == start["submitter"] + TERMS.price  # the escrowed price came back
    assert worth(arena, honest) == start["challenger"] + REWARD // n
    game_holds_what_it_owes(arena, job, [honest, *(s.address for s in squatters)])


# -- 5a. a late solver loses a game against itself -------------------------------------------------------------
def test_a_late_solver_losing_a_game_against_its_sock_leaves_the_submitter_compensated(devnet, tmp_path):
    terms = sc.Terms(train_period=3 * 24 * 3600)
    arena = sc.arena(devnet.url, tmp_path)
    job, solver = contract_solver_wins(arena, terms)
    solver.batch([call(commit_fn(arena, job, cheat_in(0), 0))])
    (sock,) = socks(arena, 1)
    submitter = arena.address("submitter")
    start = worth(arena, submitter)
    deadline = arena.market("submitter").job(job).train_deadline
    # the sock opens a game half a clock before the training deadline; the solver never answers it
    arena.advance(deadline - ECON.clock_budget // 2 - arena.now())
    gid = DisputeClient(sock).challenge(job, CORE, 0)
    arena.advance(deadline - arena.now() + 1)
    # right after the deadline the attacker would end its game on the solver's clock first: the clock still runs
    game = arena.chains["solver"].contract("DisputeGame").functions
    with pytest.raises(ContractError, match="GameClockRunning"):
        solver.batch([call(game.timeout(gid))])
    arena.market("submitter").timeout_training(job)
    arena.advance(ECON.clock_budget)
    DisputeClient(sock).send(gid, Timeout(), CORE)  # the sock's timeout now only closes the game
    client = arena.client("deployer")
    assert client.view(gid).phase is Phase.CLOSED and client.live_count(job) == 0
    assert client.credit(sock.address) == BOND  # its bond back, nothing of the slash
    assert Market(arena.chains["deployer"]).stake_info(sock.address).credits == 0
    assert worth(arena, submitter) == start + TERMS.price + REWARD  # price refunded and the slash reward
    game_holds_what_it_owes(arena, job, [sock.address])


# -- 5b. a caught cheater front-runs the honest challenge with a sock's game ---------------------------------
def test_a_front_running_sock_gets_no_more_than_an_equal_share(devnet, tmp_path):
    arena = sc.arena(devnet.url, tmp_path)
    job, solver = contract_solver_wins(arena)
    cheat = cheat_in(1)
    solver.batch([call(commit_fn(arena, job, cheat, w)) for w in range(WINDOWS)])
    (sock,) = socks(arena, 1)
    honest = arena.address("challenger")
    start_honest, start_submitter = worth(arena, honest), worth(arena, arena.address("submitter"))
    attackers = (sock.address, arena.address("solver"), solver.address)
    attacker_start = sum(worth(arena, a) for a in attackers)
    trace = trace_of(cheat, WINDOWS)
    game = arena.chains["challenger"].contract("DisputeGame").functions
    with Block(arena) as block:  # the sock's copy of the honest challenge is mined first (a higher tip)
        h_honest = block.send(
            arena.chains["challenger"], game.challenge(*challenge_args(job, trace, 1)), BOND, tip=10**9
        )
        block.send(sock, game.challenge(*challenge_args(job, trace, 1)), BOND, tip=2 * 10**9)
    honest_fees = block.fees(honest)
    client = arena.client("deployer")
    sock_game, honest_game = client.games_of_job(job)
    assert client.raw(honest_game)["challenger"] == honest and block.receipt(h_honest)["status"] == 1
    # the solver loses its sock's game first, by the proof, so that the sock is the one that slashed it
    play([(ContractPlayer(solver), "solver", cheat), (DisputeClient(sock), "challenger", HONEST)], sock_game, CORE)
    assert client.view(sock_game).phase is Phase.CHALLENGER_WON
    assert client.pot(job) == (REWARD // 2, REWARD - REWARD // 2)
    # the honest challenger's next move closes its game: bond back and the other half
    assert step_once(arena.client("challenger"), "challenger", HONEST, honest_game, CORE) is not None
    assert client.view(honest_game).phase is Phase.CLOSED
    assert worth(arena, honest, honest_fees) == start_honest + REWARD - REWARD // 2
    assert worth(arena, arena.address("submitter")) == start_submitter + TERMS.price
    # the attacker (solver contract, its owner, its sock) lost at least (1 - slashRewardBps) of the stake
    assert attacker_start - sum(worth(arena, a) for a in attackers) >= TERMS.stake - REWARD
    game_holds_what_it_owes(arena, job, [honest, sock.address])


# -- 6. a queue of griefers against an honest solver ---------------------------------------------------------
def record_delay(seconds: int) -> None:
    """Hand the measured delay to ``python -m bench.attacks`` (which sets the variable), in chain seconds."""
    out = os.environ.get("TRAINYARD_BENCH_DELAY_FILE")
    if out:
        path = Path(out)
        path.write_text(json.dumps([*(json.loads(path.read_text()) if path.exists() else []), seconds]))


def test_griefers_opening_games_to_the_last_second_delay_an_honest_solver_by_a_bounded_time(devnet, tmp_path):
    arena = sc.arena(devnet.url, tmp_path)
    job = sc.award(arena, CORE, WINDOWS, TERMS)
    sc.commit_trace(arena, job, HONEST, WINDOWS)
    m = arena.market("solver")
    result_at, cp, clock = m.job(job).result_at, TERMS.challenge_period, ECON.clock_budget
    griefers = socks(arena, 4)
    wrong = ExactOracle(CFG, DATA, (Tamper(2, 3, nudge("a1")),))
    start = {g.address: worth(arena, g.address) for g in griefers}
    solver_start = worth(arena, arena.address("solver"))
    w3 = arena.chains["deployer"].w3
    games = []
    # each griefer opens its game before the previous one ran out, the last in the last second of the period
    for g, at in zip(
        griefers, (result_at + 10, result_at + cp // 2, result_at + cp - 10, result_at + cp - 1), strict=True
    ):
        w3.provider.make_request("evm_setNextBlockTimestamp", [at])
        games.append(DisputeClient(g).challenge(job, CORE, 1))
        opened = arena.chains["deployer"].events("DisputeGame", "GameOpened", 0, gameId=games[-1])[0]
        assert w3.eth.get_block(opened["blockNumber"])["timestamp"] == at
        assert step_once(arena.client("solver"), "solver", HONEST, games[-1], CORE) is not None  # answered at once
    w3.provider.make_request("evm_mine", [max(result_at + cp, arena.now() + 1)])  # the period is over
    with pytest.raises(ContractError, match="JobMarketDisputesClosed"):  # a second later, no more games
        DisputeClient(socks(arena, 1)[0]).challenge(job, CORE, 1)
    assert (
        step_once(DisputeClient(griefers[0]), "challenger", wrong, games[0], CORE) is not None
    )  # one griefer plays on
    # the griefers stall; the solver ends each game on their clock as soon as it runs out, then finalizes
    client = arena.client("deployer")
    while live := [gid for gid in games if not client.view(gid).phase.over]:
        arena.advance(max(0, min(client.view(gid).deadline for gid in live) - arena.now()) + 1)
        for gid in live:
            step_once(arena.client("solver"), "solver", HONEST, gid, CORE)
    m.finalize(job)
    assert m.job(job).state is JobState.FINALIZED
    assert arena.now() <= result_at + cp + 2 * clock + 10  # the bound, plus the blocks of the solver's transactions
    record_delay(arena.now() - result_at)
    reward = BOND * ECON.bond_reward_bps // BPS
    for g in griefers:
        assert worth(arena, g.address) == start[g.address] - BOND  # every griefer game cost its bond
    assert worth(arena, arena.address("solver")) == solver_start + TERMS.price + len(griefers) * reward


def test_the_gas_an_honest_solver_spends_defending_one_game(devnet, tmp_path, capsys):
    """Measures the solver's gas against a wrong challenger who plays to the end (docs/disputes.md quotes it)."""
    arena = sc.arena(devnet.url, tmp_path)
    job = sc.award(arena, CORE, WINDOWS, TERMS)
    sc.commit_trace(arena, job, HONEST, WINDOWS)
    wrong = ExactOracle(CFG, DATA, (Tamper(2, 3, nudge("a1")),))
    gid = arena.client("challenger").challenge(job, CORE, 0)
    before = len(arena.gas)
    end = play(
        [(arena.client("solver"), "solver", HONEST), (arena.client("challenger"), "challenger", wrong)], gid, CORE
    )
    assert end.phase is Phase.SOLVER_WON
    solver = arena.address("solver")
    gas = sum(g.gas_used for g in arena.gas[before:] if g.sender == solver)
    moves = sum(1 for g in arena.gas[before:] if g.sender == solver)
    reward = BOND * ECON.bond_reward_bps // BPS
    with capsys.disabled():
        print(f"\nsolver_defence_gas: {gas} in {moves} moves; bond reward {reward} wei covers it up to "
              f"{reward / gas / 1e9:.1f} gwei")
    assert gas * 10**9 < reward  # covered at 1 gwei


# -- 11. a commit front-runs the verifier's challenge --------------------------------------------------------
def test_a_commit_mined_before_the_challenge_does_not_void_it(devnet, tmp_path):
    arena = sc.arena(devnet.url, tmp_path)
    job = sc.award(arena, CORE, WINDOWS, TERMS)
    cheat = cheat_in(0)
    sc.commit_trace(arena, job, cheat, 2, submit=False)
    verifier = arena.client("challenger")
    seen = verifier.trace(job)  # the verifier's proofs are made against the 2-leaf trace
    with Block(arena) as block:  # the solver's next commit lands first in the same block
        h_commit = block.send(arena.chains["solver"], commit_fn(arena, job, cheat, 2), tip=2 * 10**9)
        h_challenge = block.send(arena.chains["challenger"], verifier.challenge_fn(job, CORE, 0, trace=seen), BOND)
    assert block.receipt(h_commit)["transactionIndex"] < block.receipt(h_challenge)["transactionIndex"]
    assert block.receipt(h_challenge)["status"] == 1
    assert arena.market("solver").job(job).leaf_count == 3
    (gid,) = verifier.games_of_job(job)
    end = play([(arena.client("solver"), "solver", cheat), (verifier, "challenger", HONEST)], gid, CORE)
    assert end.phase is Phase.CHALLENGER_WON


# -- the challenger agent ------------------------------------------------------------------------------------
class ScenarioAgent(ChallengerAgent):
    """The real agent, with the job's spec taken from the scenario (these jobs have no spec document in a store)."""

    def _job(self, view: JobView) -> _Job | None:
        if view.job_id not in self._jobs:
            self._jobs[view.job_id] = _Job(CFG, DATA, CORE, ExactOracle(CFG, DATA))
        return self._jobs[view.job_id]


def agent(arena: sc.Arena, home: Path) -> ScenarioAgent:
    return ScenarioAgent(
        arena.market("challenger"),
        LocalStore(home / "store"),
        ChallengerMemory(home / "verifier.sqlite"),
        ChallengerPolicy(sample_rate=1.0, secret=b"v"),
    )


def play_with_agent(arena: sc.Arena, home: Path, gid: int, cheat: ExactOracle, restart_after: int = 3) -> None:
    """The solver answers; the agent plays its side (restarted once, from its SQLite file, part-way)."""
    a = agent(arena, home)
    for i in range(200):
        if arena.client("deployer").view(gid).phase.over:
            return
        if i == restart_after:
            a = agent(arena, home)
        a.tick()
        step_once(arena.client("solver"), "solver", cheat, gid, CORE)
    raise AssertionError("the game did not end")


def test_a_verifier_that_finished_job_1_still_plays_game_1(devnet, tmp_path):
    arena = sc.arena(devnet.url, tmp_path)
    first = sc.award(arena, CORE, WINDOWS, TERMS)
    sc.commit_trace(arena, first, HONEST, WINDOWS)
    a = agent(arena, tmp_path)
    assert a.tick().checked == WINDOWS  # job 1 is right
    arena.advance(TERMS.challenge_period + 1)
    arena.market("submitter").finalize(first)
    second = sc.award(arena, CORE, WINDOWS, TERMS)
    cheat = cheat_in(2)
    sc.commit_trace(arena, second, cheat, WINDOWS)
    assert a.tick().opened == 1  # job 1 is now finished for the agent; it opens game 1 on job 2
    (gid,) = arena.client("deployer").games_of_job(second)
    assert gid == first == 1
    play_with_agent(arena, tmp_path, gid, cheat)
    assert arena.client("deployer").view(gid).phase is Phase.CHALLENGER_WON


def test_a_challenge_that_reverts_is_sent_again_until_the_game_is_open(devnet, tmp_path):
    arena = sc.arena(devnet.url, tmp_path)
    job = sc.award(arena, CORE, WINDOWS, TERMS)
    cheat = cheat_in(1)
    sc.commit_trace(arena, job, cheat, WINDOWS)
    a = agent(arena, tmp_path)
    real = a.games.challenge

    def reverts(*args: Any, **kw: Any) -> int:
        raise ContractError("challenge reverted: a transaction mined first changed what it proved")

    a.games.challenge = reverts  # type: ignore[method-assign]
    act = a.tick()
    assert act.opened == 0 and a.failures == 1
    assert a.memory.checked(job).get(1) is not True and a.memory.pending(job) == 1  # not recorded as checked
    a.games.challenge = real  # type: ignore[method-assign]
    a = agent(arena, tmp_path)  # also across a restart
    assert a.tick().opened == 1
    (gid,) = arena.client("deployer").games_of_job(job)
    assert a.memory.checked(job)[1] is False and a.memory.pending(job) is None
    play_with_agent(arena, tmp_path, gid, cheat)
    assert arena.client("deployer").view(gid).phase is Phase.CHALLENGER_WON
