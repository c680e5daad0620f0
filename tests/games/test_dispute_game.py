"""The dispute game on Anvil, played by the Python parties: a wrong op anywhere in a step is found and proven on
chain, honest solvers win against wrong challengers, clocks end stalled games, several challengers share a job."""

import pytest

from trainyard.devnet import Devnet
from trainyard.dispute import scenario as sc
from trainyard.dispute import witness
from trainyard.dispute.client import play, step_once
from trainyard.dispute.logic import Phase, PostRoots, Timeout, first_bad_window
from trainyard.dispute.oracle import ExactOracle, Tamper
from trainyard.errors import ContractError
from trainyard.jobs import JobState
from trainyard.runtime.optrace import op_schedule

ETH = 10**18
WINDOWS, INTERVAL = 4, 4
CFG = sc.tiny_config(steps=WINDOWS * INTERVAL, interval=INTERVAL)
DATA = sc.tiny_dataset()
OPS = op_schedule(len(CFG.layers) - 1)
TERMS = sc.Terms()


@pytest.fixture(scope="module")
def net():
    with Devnet() as n:
        yield n


@pytest.fixture
def arena(net, tmp_path):
    return sc.arena(net.url, tmp_path)


def nudge(name: str, pos: int = 1, by: int = 7):
    """A tamper changing value ``pos`` of tensor ``name``."""

    def fn(live, start):
        t = live[name].clone()
        flat = t.view(-1)
        flat[pos % flat.numel()] += by
        live[name] = t

    return fn


def job_with(arena, solver_oracle, windows=WINDOWS):
    core = sc.core_of(CFG, DATA)
    job = sc.award(arena, core, windows, TERMS)
    roots = sc.commit_trace(arena, job, solver_oracle, windows)
    return core, job, roots


def open_game(arena, core, job, roots, role="challenger", degree=2, oracle=None):
    w = first_bad_window(roots, oracle or ExactOracle(CFG, DATA), INTERVAL)
    assert w is not None
    return arena.client(role).challenge(job, core, w, degree)


def credits(arena, role):
    """(market credit, staking credit, game credit) of a party."""
    m = arena.market(role)
    who = arena.address(role)
    return (int(m.chain.call(m.market.functions.credits(who))), int(m.chain.call(m.staking.functions.credits(who))),
            arena.client(role).credit(who))


def game_balance_is_conserved(arena):
    """The game contract holds exactly the live bonds, the unclaimed credits, the pots not yet shared out and the
    burned bonds."""
    client = arena.client("deployer")
    held = arena.chains["deployer"].balance(arena.addresses["DisputeGame"])
    live = sum(int(client.raw(g)["bond"]) for j in range(1, 4) for g in client.live_games(j))
    owed = sum(client.credit(arena.address(r)) for r in sc.ROLES)
    pots = sum(client.pot(j)[1] for j in range(1, 4))
    burned = int(client.chain.call(client.game_contract.functions.totalBurned()))
    assert held == live + owed + pots + burned


def assert_solver_slashed(arena, job, challenger="challenger"):
    assert arena.market("submitter").job(job).state is JobState.SLASHED
    sub_market, _, _ = credits(arena, "submitter")
    assert sub_market == TERMS.price  # the escrowed price goes back to the submitter
    _, ch_stake, ch_game = credits(arena, challenger)
    # half the solver's stake rewards the challenger of the only live game (the rest is burned), with its bond back
    assert (ch_stake, ch_game) == (0, arena.client(challenger).bond() + TERMS.stake // 2)
    info = arena.market("solver").stake_info()
    assert info.locked == 0 and info.free == 0
    game_balance_is_conserved(arena)


# every op that computes a tensor, in a step in the middle of window 1
CHEATS = [(op.index, witness.output_names(op, 2, True)[-1]) for op in OPS if op.kind != "end"]


@pytest.mark.parametrize("op,name", CHEATS, ids=[f"{OPS[i - 1].name}" for i, _ in CHEATS])
def test_a_wrong_value_in_any_op_is_proven_on_chain(arena, op, name):
    cheat = ExactOracle(CFG, DATA, (Tamper(6, op, nudge(name, by=1 if name == "y" else 7)),))
    core, job, roots = job_with(arena, cheat)
    gid = open_game(arena, core, job, roots)
    moves = []
    end = play(
        [(arena.client("solver"), "solver", cheat), (arena.client("challenger"), "challenger", ExactOracle(CFG, DATA))],
        gid,
        core,
        on_move=lambda r, m: moves.append(m),
    )
    assert end.phase is Phase.CHALLENGER_WON and end.step == 6 and end.hi == op
    # after the opening: 2 per round (2 rounds over the window's 4 steps, at most 4 over the 16 machine states)
    # and the 4 moves of the one-step proof
    assert len(moves) <= 2 * (2 + 4) + 4
    assert_solver_slashed(arena, job)


def test_a_wrong_state_after_the_last_op_cannot_be_revealed_and_times_out(arena):
    cheat = ExactOracle(CFG, DATA, (Tamper(9, len(OPS), nudge("l1.bias")),))
    core, job, roots = job_with(arena, cheat)
    gid = open_game(arena, core, job, roots)
    parties = [
        (arena.client("solver"), "solver", cheat),
        (arena.client("challenger"), "challenger", ExactOracle(CFG, DATA)),
    ]
    end = play(parties, gid, core)
    assert end.phase is Phase.REVEAL and end.solver_turn  # the contract refuses the cheater's only possible reveal
    with pytest.raises(ContractError, match="GameClockRunning"):
        arena.client("challenger").send(gid, Timeout(), core)
    arena.advance(sc.Economics().clock_budget + 1)
    assert step_once(arena.client("challenger"), "challenger", ExactOracle(CFG, DATA), gid, core) is not None
    assert arena.client("deployer").view(gid).phase is Phase.CHALLENGER_WON
    assert_solver_slashed(arena, job)


def test_an_honest_solver_wins_against_a_wrong_challenger_and_is_paid(arena):
    honest = ExactOracle(CFG, DATA)
    core, job, roots = job_with(arena, honest)
    wrong = ExactOracle(CFG, DATA, (Tamper(2, 3, nudge("a1")),))  # the challenger computes a wrong relu
    gid = open_game(arena, core, job, roots, oracle=wrong)
    end = play(
        [(arena.client("solver"), "solver", honest), (arena.client("challenger"), "challenger", wrong)], gid, core
    )
    assert end.phase is Phase.SOLVER_WON
    bond = arena.client("deployer").bond()
    assert credits(arena, "solver")[2] == bond // 2  # half the bond to the solver, half burned
    assert credits(arena, "challenger") == (0, 0, 0)
    game_balance_is_conserved(arena)
    market = arena.market("solver")
    assert market.job(job).state is JobState.CHALLENGE
    arena.advance(TERMS.challenge_period + 1)
    market.finalize(job)
    assert credits(arena, "solver")[0] == TERMS.price


def test_degree_eight_needs_fewer_moves(arena):
    cheat = ExactOracle(CFG, DATA, (Tamper(5, 7, nudge("l1.bias.grad")),))
    core, job, roots = job_with(arena, cheat)
    gid = open_game(arena, core, job, roots, degree=8)
    moves = []
    end = play(
        [(arena.client("solver"), "solver", cheat), (arena.client("challenger"), "challenger", ExactOracle(CFG, DATA))],
        gid,
        core,
        on_move=lambda r, m: moves.append(m),
    )
    assert end.phase is Phase.CHALLENGER_WON
    assert len(moves) <= 2 * (1 + 2) + 4  # 4 steps in one round, 16 states in at most two rounds of 8


@pytest.mark.parametrize("staller", ["solver", "challenger"])
def test_the_party_that_stalls_loses_on_its_clock(arena, staller):
    cheat = ExactOracle(CFG, DATA, (Tamper(6, 2, nudge("z0", by=9000)),))
    core, job, roots = job_with(arena, cheat)
    gid = open_game(arena, core, job, roots)
    solver = (arena.client("solver"), "solver", cheat)
    challenger = (arena.client("challenger"), "challenger", ExactOracle(CFG, DATA))
    if staller == "challenger":
        assert step_once(*solver, gid, core) is not None  # the solver posts its roots; the challenger goes silent
    waiter = challenger if staller == "solver" else solver
    assert step_once(*waiter, gid, core) is None  # nothing to do while the other party's clock runs
    arena.advance(sc.Economics().clock_budget + 1)
    assert step_once(*waiter, gid, core) is not None  # the waiting party ends the game on the other's clock
    end = arena.client("deployer").view(gid)
    assert end.phase is (Phase.SOLVER_WON if staller == "challenger" else Phase.CHALLENGER_WON)
    if staller == "solver":
        assert_solver_slashed(arena, job)
    game_balance_is_conserved(arena)


def test_the_reward_is_shared_equally_by_the_games_live_when_the_solver_lost(arena):
    cheat = ExactOracle(CFG, DATA, (Tamper(6, 11, nudge("l0.weight")),))
    core, job, roots = job_with(arena, cheat)
    first = open_game(arena, core, job, roots, role="challenger")
    second = open_game(arena, core, job, roots, role="challenger2")
    third = open_game(arena, core, job, roots, role="challenger3")
    client = arena.client("deployer")
    assert client.live_games(job) == [first, second, third] and client.live_count(job) == 3
    # the cheater plays (and loses) the second game first: its challenger gets its bond and a third of the reward now
    play(
        [
            (arena.client("solver"), "solver", cheat),
            (arena.client("challenger2"), "challenger", ExactOracle(CFG, DATA)),
        ],
        second,
        core,
    )
    reward, bond = TERMS.stake // 2, client.bond()
    assert client.view(second).phase is Phase.CHALLENGER_WON
    assert credits(arena, "challenger2") == (0, 0, bond + reward // 3)
    assert client.pot(job) == (reward // 3, reward - reward // 3) and client.live_count(job) == 2
    assert arena.market("submitter").job(job).state is JobState.SLASHED
    game_balance_is_conserved(arena)
    # the game that ended is never closed (nor paid) again, by any call
    for move in (Timeout(), PostRoots([b"\x00" * 32])):
        with pytest.raises(ContractError, match="GameWrongPhase"):
            arena.client("challenger2").send(second, move, core)
    with pytest.raises(ContractError, match="GameWrongPhase"):
        arena.client("challenger2").close(second)
    # the other games are closed when touched: by anyone, or by their own party's next move
    arena.client("submitter").close(first)
    assert step_once(arena.client("challenger3"), "challenger", ExactOracle(CFG, DATA), third, core) is not None
    assert client.view(first).phase is client.view(third).phase is Phase.CLOSED
    assert credits(arena, "challenger") == (0, 0, bond + reward // 3)
    assert credits(arena, "challenger3") == (0, 0, bond + reward - 2 * (reward // 3))  # the last takes the remainder
    assert client.pot(job) == (reward // 3, 0) and client.live_count(job) == 0
    assert arena.market("submitter").job(job).open_disputes == 0
    with pytest.raises(ContractError, match="GameWrongPhase"):
        arena.client("submitter").close(first)
    game_balance_is_conserved(arena)


def test_close_refuses_a_game_whose_job_is_undecided(arena):
    cheat = ExactOracle(CFG, DATA, (Tamper(6, 11, nudge("l0.weight")),))
    core, job, roots = job_with(arena, cheat)
    gid = open_game(arena, core, job, roots)
    with pytest.raises(ContractError, match="GameJobUndecided"):
        arena.client("submitter").close(gid)


def test_a_queue_of_stalling_challengers_delays_an_honest_solver_by_a_bounded_time(arena):
    honest = ExactOracle(CFG, DATA)
    core, job, _roots = job_with(arena, honest)
    result_at = arena.market("solver").job(job).result_at
    clock = sc.Economics().clock_budget
    arena.advance(TERMS.challenge_period - 5)  # challengers wait for the last moment of the challenge period
    games = []
    for role in ("challenger", "challenger2", "challenger3"):
        games.append(arena.client(role).challenge(job, core, 0, 2))
        step_once(arena.client("solver"), "solver", honest, games[-1], core)  # the solver answers each at once
    # the challengers never answer; the solver ends every game on their clocks
    arena.advance(clock + 1)
    for g in games:
        step_once(arena.client("solver"), "solver", honest, g, core)
        assert arena.client("deployer").view(g).phase is Phase.SOLVER_WON
    m = arena.market("solver")
    assert m.job(job).state is JobState.FINALIZABLE
    assert arena.now() <= result_at + TERMS.challenge_period + 2 * clock
    m.finalize(job)
    assert credits(arena, "solver")[2] == 3 * (arena.client("deployer").bond() // 2)
    game_balance_is_conserved(arena)


def test_bad_openings_are_refused(arena):
    cheat = ExactOracle(CFG, DATA, (Tamper(6, 11, nudge("l0.weight")),))
    core, job, roots = job_with(arena, cheat)
    client = arena.client("challenger")
    game = client.game_contract.functions
    bond = client.bond()
    leaf = (roots[1], b"\x00" * 32, b"\x00" * 32, [])
    with pytest.raises(ContractError, match="GameBadBond"):
        client.chain.transact(game.challenge(job, core.abi_tuple(), 1, WINDOWS, leaf, leaf, 2), value=bond - 1)
    with pytest.raises(ContractError, match="GameBadDegree"):
        client.chain.transact(game.challenge(job, core.abi_tuple(), 1, WINDOWS, leaf, leaf, 1), value=bond)
    other = sc.SpecCore(*core.abi_tuple()[:9], layers=(4, 6, 3))
    with pytest.raises(ContractError, match="GameBadSpecCore"):
        client.challenge(job, other, 1)
    with pytest.raises(ContractError, match="GameBadWindow"):
        client.chain.transact(game.challenge(job, core.abi_tuple(), WINDOWS, WINDOWS, leaf, leaf, 2), value=bond)
    with pytest.raises(ContractError, match="GameBadWindow"):  # a window beyond the leaf count the proofs name
        client.chain.transact(game.challenge(job, core.abi_tuple(), 2, 2, leaf, leaf, 2), value=bond)
    for count in (0, WINDOWS + 1):  # a leaf count the trace never had (or not yet)
        with pytest.raises(ContractError, match="GameBadLeafCount"):
            client.chain.transact(game.challenge(job, core.abi_tuple(), 0, count, leaf, leaf, 2), value=bond)
    with pytest.raises(ContractError, match="GameBadLeaf"):  # a leaf that is not in the trace
        client.chain.transact(
            game.challenge(job, core.abi_tuple(), 0, WINDOWS, leaf, (b"\x01" * 32, b"\x00" * 32, b"\x00" * 32, []), 2),
            value=bond,
        )
    with pytest.raises(ContractError, match="GameBadLeaf"):  # proofs against the current root, named as of 3 leaves
        trace = client.trace(job)
        fn = client.challenge_fn(job, core, 1, trace=trace)
        args = list(fn.args)
        args[3] = 3
        client.chain.transact(game.challenge(*args), value=bond)
    with pytest.raises(ContractError, match="GameChallengerIsSolver"):
        arena.client("solver").challenge(job, core, 1)
    assert arena.client("deployer").live_games(job) == []
    assert arena.client("deployer").live_count(job) == 0


def test_a_job_the_one_step_proof_cannot_check_is_refused_not_truncated(arena):
    # a spec core beyond the one-step limits (windows of one step) is refused when the job is posted, so no game
    # can ever be opened on it (challenge checks the same limits again)
    core = sc.core_of(CFG, DATA)
    unsupported = sc.SpecCore(*core.abi_tuple()[:5], 1, *core.abi_tuple()[6:9], core.layers)
    with pytest.raises(ContractError, match="OneStepUnsupported"):
        sc.award(arena, unsupported, WINDOWS, TERMS)
