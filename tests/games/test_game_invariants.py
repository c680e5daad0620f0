"""Money in the dispute game, the market and staking under random play (hypothesis state machine on Anvil): games
opened by honest and wrong challengers against honest or cheating solvers, moves in any order, the clock jumping,
timeouts and claims. After every step each contract holds exactly what it owes, and money in = money out + held."""

import atexit
import contextlib
import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from trainyard.devnet import Devnet
from trainyard.dispute import scenario as sc
from trainyard.dispute.client import step_once
from trainyard.dispute.oracle import ExactOracle, Tamper
from trainyard.errors import TrainyardError
from trainyard.market import Market

CFG = sc.tiny_config(steps=16, interval=4)
DATA = sc.tiny_dataset()
CHALLENGERS = ("challenger", "challenger2", "challenger3")
_NET: Devnet | None = None


def net() -> Devnet:
    """One Anvil for all examples (each example deploys its own contracts), stopped when the tests end."""
    global _NET
    if _NET is None:
        _NET = Devnet().start()
        atexit.register(_NET.stop)
    return _NET


def nudge(name: str):
    def fn(live, start):
        t = live[name].clone()
        t.view(-1)[1] += 5
        live[name] = t

    return fn


class GameMoney(RuleBasedStateMachine):
    @initialize(cheat=st.sampled_from([None, 2, 6, 13]), wrong=st.lists(st.booleans(), min_size=3, max_size=3),
                seed=st.integers(0, 2**32))
    def setup(self, cheat, wrong, seed):
        self.arena = sc.arena(net().url, Path(tempfile.mkdtemp()))
        tampers = (Tamper(cheat, 11, nudge("l0.weight")),) if cheat is not None else ()
        self.solver = ExactOracle(CFG, DATA, tampers)
        self.core = sc.core_of(CFG, DATA)
        self.job = sc.award(self.arena, self.core, 4)
        self.roots = sc.commit_trace(self.arena, self.job, self.solver, 4)
        self.oracles = {
            r: ExactOracle(CFG, DATA, (Tamper(1, 3, nudge("a1")),) if w else ())
            for r, w in zip(CHALLENGERS, wrong, strict=False)
        }
        self.games: list[int] = []
        self.wallet_start = {r: c.balance() for r, c in self.arena.chains.items()}
        self.inside_start = self._inside()
        self.gas_start = len(self.arena.gas)
        # hypothesis 6.27 keeps rule sequences short: most of the random play runs here, from a seeded script (1-3
        # games opened early, then mostly moves, some clock jumps, claims and finalize attempts), checked after
        # every action
        rng = random.Random(seed)
        script = [("open", rng.randrange(2**16)) for _ in range(rng.randint(1, 3))]
        script += [
            (rng.choices(["move", "open", "time", "claim", "finalize"], [80, 3, 7, 5, 5])[0], rng.randrange(2**16))
            for _ in range(60)
        ]
        for action, n in script:
            if action == "open":
                self.open_game(CHALLENGERS[n % 3], n % 4, (2, 3, 8)[n % 3])
            elif action == "move":
                self._move(n)
            elif action == "time":
                self.time_passes((60, 3600, 24 * 3600 + 1)[n % 3])
            elif action == "claim":
                self.claim(("solver", "submitter", *CHALLENGERS)[n % 5])
            else:
                self.finalize()
            self.contracts_hold_what_they_owe()

    def _inside(self) -> int:
        a = self.arena
        return sum(
            a.chains["deployer"].balance(a.addresses[k])
            for k in ("DisputeGame", "JobMarket", "Staking", "VerifierPool")
        )

    @rule(who=st.sampled_from(CHALLENGERS), window=st.integers(0, 3), degree=st.sampled_from([2, 3, 8]))
    def open_game(self, who, window, degree):
        with contextlib.suppress(TrainyardError):  # not allowed now (job over, disputes closed): nothing may have moved
            self.games.append(self.arena.client(who).challenge(self.job, self.core, window, degree))

    @rule(n=st.integers(0, 2**16))
    def move(self, n):
        self._move(n)

    def _move(self, n: int) -> None:
        """The n-th pick of a game and a side of it makes its move, if it has one."""
        if not self.games:
            return
        g = self.games[n % len(self.games)]
        view = self.arena.client("deployer").view(g)
        if view.phase.over:
            return
        who = next(r for r in CHALLENGERS if self.arena.address(r) == view.challenger)
        mover, waiter = ("solver", who) if view.solver_turn else (who, "solver")
        party = waiter if n % 5 == 4 else mover  # the waiting side calls the timeout once the mover's clock ran out
        oracle = self.solver if party == "solver" else self.oracles[who]
        with contextlib.suppress(TrainyardError):
            step_once(self.arena.client(party), "solver" if party == "solver" else "challenger", oracle, g, self.core)

    @rule(seconds=st.sampled_from([60, 3600, 24 * 3600 + 1]))
    def time_passes(self, seconds):
        self.arena.advance(seconds)

    @rule(who=st.sampled_from(("solver", "submitter", *CHALLENGERS)))
    def claim(self, who):
        try:
            self.arena.client(who).claim()
            self.arena.market(who).claim()
        except TrainyardError:
            pass

    @rule()
    def finalize(self):
        with contextlib.suppress(TrainyardError):
            self.arena.market("submitter").finalize(self.job)

    @invariant()
    def contracts_hold_what_they_owe(self):
        if not hasattr(self, "arena"):
            return
        a = self.arena
        c = a.chains["deployer"]
        game = a.client("deployer")
        everyone = [a.address(r) for r in sc.ROLES]
        live = game.live_games(self.job)
        assert game.live_count(self.job) == len(live)
        live_bonds = sum(int(game.raw(g)["bond"]) for g in live)
        burned_bonds = int(c.call(game.game_contract.functions.totalBurned()))
        pot_left = game.pot(self.job)[1]
        owed = sum(game.credit(x) for x in everyone)
        assert c.balance(a.addresses["DisputeGame"]) == live_bonds + owed + pot_left + burned_bonds
        m = Market(c)
        job = m.job(self.job)
        escrow = 0 if job.state.is_over else job.price
        assert c.balance(a.addresses["JobMarket"]) == escrow + sum(
            int(c.call(m.market.functions.credits(x))) for x in everyone
        )
        s = m.staking.functions
        held = sum(
            int(c.call(s.freeStake(x)))
            + int(c.call(s.lockedStake(x)))
            + int(c.call(s.unbonding(x))[0])
            + int(c.call(s.credits(x)))
            for x in everyone
        )
        assert c.balance(a.addresses["Staking"]) == held + int(c.call(s.totalBurned()))
        # money in = money out + held: what left the wallets (gas added back) is exactly what the contracts gained
        moved = sum(a.chains[r].balance() - self.wallet_start[r] for r in sc.ROLES)
        fees = sum(g.fee for g in a.gas[self.gas_start :])
        assert moved + fees == -(self._inside() - self.inside_start)


GameMoney.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=10,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
test_game_money = GameMoney.TestCase
