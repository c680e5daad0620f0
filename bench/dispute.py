"""The dispute game end to end on a fresh Anvil: moves, gas and wall time of whole games, and the gas of the
one-step proof of each op kind.

``python -m bench.dispute [--quick | --limits] [--port P]`` prints ``name: value`` lines:

- for T = 2^10, 2^14 and 2^20 training steps (``--quick``: 2^10 only) and dissection degree 2 (no suffix) and 8
  (suffix ``_d8``), one full game each, from the challenge that opens it to the proof that ends it:
  ``moves_T<n>`` (every on-chain move of both parties, the challenge included), ``gas_T<n>`` (the gas of all of
  them: challenge, postRoots, pick, revealOp, nameChunk, revealChunk, proveElement, timeout, as the arena's gas
  log records them), ``max_tx_gas_T<n>`` (the largest of them) and ``wall_s_T<n>`` (wall time from the challenge to
  the end of the game, the parties' computation included: both recompute the disputed window's states as the
  dissection asks for them, the solver with its cheat);
- ``moves_bound_T<n>`` = 2·(log2 c + ⌈log2 N⌉) + 6, c = T/16 the steps per window and N = 7L + 1 the ops of a
  step (the move count of docs/disputes.md, 1 + 2·(⌈log2 c⌉ + ⌈log2 N⌉) + 4, plus one of slack);
- ``onestep_gas_<kind>`` for each op kind: the gas of the ``proveElement`` transaction of a game on a 16-step job
  (4 windows of 4) of the game tests' model (``scenario.tiny_config()``: layers 4-5-3, batch 3, momentum 0.5) where
  the cheater changed one value of the first op of that kind (its first output tensor: a0 for batch, the parameter
  for the sgd ops) in step 6; ``onestep_gas_max`` is the largest;
- ``targets_met``: yes when every degree-2 game takes at most ``moves_bound`` moves, every game at T = 2^20 (both
  degrees) costs less than 5,000,000 gas in all, and no game transaction (including the one-step games') uses more
  than 3,000,000 gas. With ``--quick`` the total-gas target is checked on the T = 2^10 games instead (weaker).

The setting of the timed games: an MLP 2-2-2 (L = 2, N = 15 ops) with batch size 1, learning rate 0.125 and
momentum 0.5 on ``scenario.tiny_dataset(features=2, classes=2)``, trained for T steps in 16 windows (c = T/16).
The solver is honest up to the last window and cheats in its middle: after op ``sgd l0.weight`` of step
T − c/2 it adds 7 to one weight (a :class:`~trainyard.dispute.oracle.Tamper`) and trains on from there, so its
last trace leaf (state root and interior root) is its own consistent, wrong computation. Each degree gets its own
job (a lost game slashes the job), with the same committed trace. As in ``bench.gas``, gas is that of a deployment
in use: a warm-up game (not reported) pays the contracts' first writes of their counters and totals, and after every
game each party claims its credits, so that every game starts with none outstanding, as a fresh party's would.

What is shared, to keep T = 2^20 to minutes: the honest training is run once per T, by one
:class:`~trainyard.dispute.oracle.ExactOracle`, which also gives the honest windows' interior roots. Each game's
parties then get fresh oracles that trust (``ExactOracle.known``) the honest states at the window boundaries: the
challenger all of them (what it would have by recomputing the solver's earlier windows, which are honest, and the
last one, which it disputes), the solver those up to the start of the last window plus its own (cheating) end
state, which it computed once before committing. So the challenger finds the wrong window at once
(``first_bad_window`` against the leaves read from the market's events) and, in the game, both parties recompute
the states inside the disputed window from its start, with no cache carried from one game to the next: that
computation (about c steps per party) is in ``wall_s``, the honest training before the game is not.

- with ``--limits`` (also run by default, not with ``--quick``): the largest dispute transactions at the largest
  shapes a job may have (``OneStep.checkLimits``: 16 layers, every width 64, batch 32; a job of 4 steps in 2
  windows of 2, the model of ``limits_config()``), measured rather than derived. For each op kind one game where
  the cheater added 1.0 to one value of the first op of that kind (its first output tensor; for linear and relu a
  positive value, for grad_input one whose z is positive, so that the change is not lost to relu and the contract
  computes the whole dot product) in step 2, played to the proof; every
  transaction of the game (challenge, postRoots, pick, revealOp, nameChunk, revealChunk, proveElement) is read back
  from the node by hash, and ``max_tx_calldata_bytes_<kind>`` is the longest input data of them (bytes) and
  ``max_tx_gas_<kind>`` the most gas one used; ``max_tx_calldata_bytes`` and ``max_tx_gas`` over all the games,
  ``max_tx_calldata_label``/``max_tx_gas_label`` the kind and move that reached them, ``block_gas_limit`` the
  devnet's, and ``limits_met: yes`` when every transaction has under 131,072 bytes (geth's 128 KiB) of calldata
  and used under 10,000,000 gas. These games run on their own deployment (the same figures with or without the
  other sections); the first of them pays the contracts' first writes, so its gas is a little above a warm game's.
  The data has 64 training rows, so the batch op's data-row proof has 6 hashes where a job of 2^32 rows would have
  32 (26 · 32 = 832 bytes more, on the batch game's proveElement only).

Run time: about 6 minutes for the timed and one-step games, most of it the honest training of T = 2^20 (about
250 µs a step of the exact runtime on this model, progress on stderr), and about 1.5 minutes for the limits
section (9 games of a 16-layer model); ``--quick`` takes under 20 seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from trainyard.chain import GasRecord
from trainyard.devnet import Devnet
from trainyard.dispute import scenario as sc
from trainyard.dispute import witness
from trainyard.dispute.client import play
from trainyard.dispute.logic import Phase, first_bad_window
from trainyard.dispute.oracle import ExactOracle, Live, Tamper
from trainyard.runtime.data import Dataset
from trainyard.runtime.model import State, TrainConfig, validate_config
from trainyard.runtime.optrace import op_count, op_schedule

GAME_LABELS = frozenset({"challenge", "postRoots", "pick", "revealOp", "nameChunk", "revealChunk", "proveElement",
                         "timeout"})
SIZES = (10, 14, 20)  # log2 of the training steps
QUICK_SIZES = (10,)
DEGREES = (2, 8)
WINDOWS = 16
LAYERS = (2, 2, 2)
BATCH = 1
ONESTEP_KINDS = ("batch", "linear", "relu", "softmax_xent_grad", "grad_weight", "grad_bias", "grad_input",
                 "sgd_weight", "sgd_bias")
ONESTEP_WINDOWS, ONESTEP_INTERVAL, ONESTEP_STEP = 4, 4, 6
GAS_TOTAL_TARGET = 5_000_000  # at T = 2^20
GAS_TX_TARGET = 3_000_000
# the largest shapes OneStep.checkLimits accepts, and what every dispute transaction must stay under there
LIMIT_LAYERS, LIMIT_WIDTH, LIMIT_BATCH = 16, 64, 32
LIMIT_WINDOWS, LIMIT_INTERVAL, LIMIT_STEP = 2, 2, 2
CALLDATA_LIMIT = 131_072  # geth's 128 KiB
TX_GAS_LIMIT = 10_000_000
LIMIT_NUDGE = 1 << 16  # 1.0 in fixed point


def note(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def nudge(name: str, pos: int = 1, by: int = 7) -> Callable[[Live, Live], None]:
    """A tamper function adding ``by`` to value ``pos`` (flat) of live tensor ``name``."""

    def fn(live: Live, start: Live) -> None:
        t = live[name].clone()
        t.view(-1)[pos % t.numel()] += by
        live[name] = t

    return fn


# -- the timed games ----------------------------------------------------------------------------------------
def bench_config(steps: int) -> TrainConfig:
    return dataclasses.replace(sc.tiny_config(steps, steps // WINDOWS, layers=LAYERS), batch_size=BATCH)


def bench_data() -> Dataset:
    return sc.tiny_dataset(features=LAYERS[0], classes=LAYERS[-1])


@dataclass
class Prepared:
    """One T's computation, done once before its games."""

    cfg: TrainConfig
    data: Dataset
    honest: list[State]  # honest states after 0, c, 2c, ..., T steps
    cheat_end: State  # the solver's (wrong) state after T steps
    roots: list[bytes]  # the solver's trace: state root per window
    interiors: list[bytes]  # and interior root per window
    tamper: Tamper


def prepare(log2_steps: int) -> Prepared:
    steps = 1 << log2_steps
    cfg, data = bench_config(steps), bench_data()
    validate_config(cfg, data)
    c = cfg.checkpoint_interval
    sgd_w0 = next(op.index for op in op_schedule(len(LAYERS) - 1) if op.kind == "sgd_weight" and op.layer == 0)
    tamper = Tamper(steps - c + c // 2, sgd_w0, nudge("l0.weight"))

    honest = ExactOracle(cfg, data)
    interiors: list[bytes] = []
    t0 = time.perf_counter()
    for w in range(WINDOWS):
        interiors.append(honest.interior_root(w))  # trains window w once and keeps its end state
        if log2_steps >= 16:
            done = time.perf_counter() - t0
            note(f"T={steps}: honest window {w + 1}/{WINDOWS} trained, {done:.0f} s "
                 f"(about {done / (w + 1) * (WINDOWS - w - 1):.0f} s to go)")
    states = [honest.state(w * c) for w in range(WINDOWS + 1)]
    roots = [s.root() for s in states[1:]]
    if log2_steps <= 10:  # the one-pass trajectory is what the oracle gives step by step
        check = ExactOracle(cfg, data)
        assert check.state_root(c) == roots[0] and check.interior_root(1) == interiors[1]

    cheat = ExactOracle(cfg, data, (tamper,))
    cheat.known(states[WINDOWS - 1])
    t1 = time.perf_counter()
    interiors[-1] = cheat.interior_root(WINDOWS - 1)
    cheat_end = cheat.state(steps)
    roots[-1] = cheat_end.root()
    assert roots[-1] != states[-1].root(), "the cheat did not change the window's end state"
    if log2_steps >= 16:
        note(f"T={steps}: the cheater's last window trained in {time.perf_counter() - t1:.0f} s")
    return Prepared(cfg, data, states, cheat_end, roots, interiors, tamper)


@dataclass(frozen=True)
class GameFigures:
    moves: int
    gas: int
    max_tx_gas: int
    wall_s: float


def game_records(gas: Sequence[GasRecord], start: int) -> list[GasRecord]:
    return [g for g in gas[start:] if g.label in GAME_LABELS]


def claim_all(a: sc.Arena) -> None:
    """Every party claims what it was credited, so that the next game starts with no credits outstanding."""
    for role in ("submitter", "solver", "challenger"):
        a.market(role).claim()
        a.client(role).claim()


def timed_game(a: sc.Arena, p: Prepared, degree: int) -> GameFigures:
    cfg, data, c = p.cfg, p.data, p.cfg.checkpoint_interval
    core = sc.core_of(cfg, data)
    job = sc.award(a, core, WINDOWS)
    solver = a.market("solver")
    for w in range(WINDOWS):
        solver.commit_trace(job, p.roots[w], p.interiors[w], f"bafkckpt{w}")
    solver.submit_result(job, f"bafkckpt{WINDOWS - 1}")

    challenger_oracle = ExactOracle(cfg, data)
    for s in p.honest:
        challenger_oracle.known(s)
    solver_oracle = ExactOracle(cfg, data, (p.tamper,))
    for s in p.honest[:WINDOWS]:
        solver_oracle.known(s)
    solver_oracle.known(p.cheat_end)
    ch = a.client("challenger")
    claimed = [leaf.state_root for leaf in ch.trace(job)]
    window = first_bad_window(claimed, challenger_oracle, c)
    assert window == WINDOWS - 1, window

    start = len(a.gas)
    t0 = time.perf_counter()
    gid = ch.challenge(job, core, window, degree)
    end = play([(a.client("solver"), "solver", solver_oracle), (ch, "challenger", challenger_oracle)], gid, core)
    wall = time.perf_counter() - t0
    assert end.phase is Phase.CHALLENGER_WON, end
    assert end.step == p.tamper.step and end.hi == p.tamper.op, end
    recs = game_records(a.gas, start)
    claim_all(a)
    return GameFigures(len(recs), sum(g.gas_used for g in recs), max(g.gas_used for g in recs), wall)


def moves_bound(steps: int) -> int:
    c = steps // WINDOWS
    return 2 * (int(math.log2(c)) + math.ceil(math.log2(op_count(len(LAYERS) - 1)))) + 6


# -- the one-step proofs ------------------------------------------------------------------------------------
def onestep_gas(a: sc.Arena) -> tuple[dict[str, int], list[GasRecord]]:
    """proveElement gas of a game whose cheater is wrong at the first op of each kind (and every game tx)."""
    cfg = sc.tiny_config(ONESTEP_WINDOWS * ONESTEP_INTERVAL, ONESTEP_INTERVAL)
    data = sc.tiny_dataset()
    n_layers = len(cfg.layers) - 1
    out: dict[str, int] = {}
    all_recs: list[GasRecord] = []
    for kind in ONESTEP_KINDS:
        op = next(o for o in op_schedule(n_layers) if o.kind == kind)
        name = witness.output_names(op, n_layers, cfg.momentum_fixed != 0)[0]
        cheat = ExactOracle(cfg, data, (Tamper(ONESTEP_STEP, op.index, nudge(name)),))
        core = sc.core_of(cfg, data)
        job = sc.award(a, core, ONESTEP_WINDOWS)
        roots = sc.commit_trace(a, job, cheat, ONESTEP_WINDOWS)
        honest = ExactOracle(cfg, data)
        window = first_bad_window(roots, honest, ONESTEP_INTERVAL)
        assert window == ONESTEP_STEP // ONESTEP_INTERVAL, window
        start = len(a.gas)
        ch = a.client("challenger")
        gid = ch.challenge(job, core, window, 2)
        end = play([(a.client("solver"), "solver", cheat), (ch, "challenger", honest)], gid, core)
        assert end.phase is Phase.CHALLENGER_WON and end.step == ONESTEP_STEP and end.hi == op.index, (kind, end)
        recs = game_records(a.gas, start)
        (prove,) = [g for g in recs if g.label == "proveElement"]
        out[kind] = prove.gas_used
        all_recs += recs
        claim_all(a)
    return out, all_recs


# -- the largest transactions at the largest shapes ----------------------------------------------------------
def limits_config() -> TrainConfig:
    cfg = sc.tiny_config(LIMIT_WINDOWS * LIMIT_INTERVAL, LIMIT_INTERVAL, layers=(LIMIT_WIDTH,) * (LIMIT_LAYERS + 1))
    return dataclasses.replace(cfg, batch_size=LIMIT_BATCH)


def limits_data() -> Dataset:
    return sc.tiny_dataset(n=2 * LIMIT_BATCH, features=LIMIT_WIDTH, classes=LIMIT_WIDTH)


def nudge_where_positive(name: str, gate: str, by: int = 7) -> Callable[[Live, Live], None]:
    """Like :func:`nudge`, at the first value whose ``gate`` value (same position) is positive (position 1 if none)."""

    def fn(live: Live, start: Live) -> None:
        hits = (live[gate].reshape(-1) > 0).nonzero()
        nudge(name, int(hits[0]) if len(hits) else 1, by)(live, start)

    return fn


@dataclass(frozen=True)
class TxFigures:
    label: str
    calldata_bytes: int
    gas_used: int


def game_txs(a: sc.Arena, from_block: int) -> list[TxFigures]:
    """Every transaction to the dispute game mined after block ``from_block``, read back from the node by hash: its
    function, the length of its input data and the gas it used."""
    w3 = a.chains["deployer"].w3
    game = a.client("challenger").game_contract
    out = []
    for n in range(from_block + 1, w3.eth.block_number + 1):
        for h in w3.eth.get_block(n)["transactions"]:
            assert isinstance(h, bytes), "a block read without full_transactions lists hashes"
            tx = w3.eth.get_transaction(h)
            if tx["to"] != game.address:
                continue
            data = bytes(tx["input"])
            fn = game.get_function_by_selector(data[:4])
            out.append(TxFigures(fn.fn_name, len(data), int(w3.eth.get_transaction_receipt(h)["gasUsed"])))
    return out


def limits_games(a: sc.Arena) -> dict[str, list[TxFigures]]:
    """Per op kind, every transaction of a game at the largest shapes whose cheater changed one value of it."""
    cfg, data = limits_config(), limits_data()
    validate_config(cfg, data)
    w3 = a.chains["deployer"].w3
    momentum = cfg.momentum_fixed != 0
    out: dict[str, list[TxFigures]] = {}
    for kind in ONESTEP_KINDS:
        t0 = time.perf_counter()
        op = next(o for o in op_schedule(LIMIT_LAYERS) if o.kind == kind)
        name = witness.output_names(op, LIMIT_LAYERS, momentum)[0]
        # by 1.0 at a value that is used: a nudge of a few units, or at a value relu zeroes, can vanish in rounding
        # before the window's end state, and then there is nothing to dispute
        gate = {"linear": name, "relu": name, "grad_input": f"z{op.layer - 1}"}.get(kind)
        fn = nudge_where_positive(name, gate, LIMIT_NUDGE) if gate else nudge(name, by=LIMIT_NUDGE)
        cheat = ExactOracle(cfg, data, (Tamper(LIMIT_STEP, op.index, fn),))
        core = sc.core_of(cfg, data)
        job = sc.award(a, core, LIMIT_WINDOWS)
        roots = sc.commit_trace(a, job, cheat, LIMIT_WINDOWS)
        honest = ExactOracle(cfg, data)
        window = first_bad_window(roots, honest, LIMIT_INTERVAL)
        assert window == LIMIT_STEP // LIMIT_INTERVAL, (kind, window)
        start, first_block = len(a.gas), w3.eth.block_number
        ch = a.client("challenger")
        gid = ch.challenge(job, core, window, 2)
        end = play([(a.client("solver"), "solver", cheat), (ch, "challenger", honest)], gid, core)
        assert end.phase is Phase.CHALLENGER_WON and end.step == LIMIT_STEP and end.hi == op.index, (kind, end)
        txs = game_txs(a, first_block)
        recs = game_records(a.gas, start)
        assert [(t.label, t.gas_used) for t in txs] == [(g.label, g.gas_used) for g in recs], (txs, recs)
        out[kind] = txs
        claim_all(a)
        big, heavy = max(txs, key=lambda t: t.calldata_bytes), max(txs, key=lambda t: t.gas_used)
        note(f"limits: {kind} game of {len(txs)} moves in {time.perf_counter() - t0:.1f} s; most calldata "
             f"{big.label} {big.calldata_bytes} bytes, most gas {heavy.label} {heavy.gas_used}")
    return out


def report_limits(per_kind: dict[str, list[TxFigures]], block_gas_limit: int) -> bool:
    """Print the limits section's lines; whether every transaction is within both limits."""
    for kind, txs in per_kind.items():
        print(f"max_tx_calldata_bytes_{kind}: {max(t.calldata_bytes for t in txs)}")
        print(f"max_tx_gas_{kind}: {max(t.gas_used for t in txs)}")
    every = [(kind, t) for kind, txs in per_kind.items() for t in txs]
    kind_c, top_c = max(every, key=lambda kt: kt[1].calldata_bytes)
    kind_g, top_g = max(every, key=lambda kt: kt[1].gas_used)
    print(f"max_tx_calldata_bytes: {top_c.calldata_bytes}")
    print(f"max_tx_calldata_label: {kind_c} {top_c.label}")
    print(f"max_tx_gas: {top_g.gas_used}")
    print(f"max_tx_gas_label: {kind_g} {top_g.label}")
    print(f"block_gas_limit: {block_gas_limit}")
    met = top_c.calldata_bytes < CALLDATA_LIMIT and top_g.gas_used < TX_GAS_LIMIT
    print(f"limits_met: {'yes' if met else 'no'}", flush=True)
    return met


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.dispute", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="T = 2^10 only (a smoke test), without the limits section")
    ap.add_argument("--limits", action="store_true", help="only the largest transactions at the largest shapes")
    ap.add_argument("--port", type=int, default=None, help="the devnet's port (default: a free one)")
    args = ap.parse_args(argv)
    if args.quick and args.limits:
        ap.error("--quick leaves the limits section out; --limits runs only it")
    sizes = QUICK_SIZES if args.quick else SIZES
    t_start = time.perf_counter()
    with Devnet(args.port) as net, tempfile.TemporaryDirectory() as tmp:
        if not args.limits:
            main_sections(sc.arena(net.url, Path(tmp) / "main"), sizes)
        if not args.quick:
            t0 = time.perf_counter()
            a = sc.arena(net.url, Path(tmp) / "limits")  # its own deployment: the same figures run alone or not
            per_kind = limits_games(a)
            note(f"limits: games played in {time.perf_counter() - t0:.1f} s")
            report_limits(per_kind, int(a.chains["deployer"].w3.eth.get_block("latest")["gasLimit"]))
    note(f"total wall time {time.perf_counter() - t_start:.1f} s")
    return 0


def main_sections(a: sc.Arena, sizes: Sequence[int]) -> None:
    """The timed games and the one-step gas on the small model; prints their lines and ``targets_met``."""
    met = True
    for log2_steps in sizes:
        steps = 1 << log2_steps
        t0 = time.perf_counter()
        p = prepare(log2_steps)
        if log2_steps == sizes[0]:
            timed_game(a, p, 2)  # warm-up, not reported: the contracts' first writes of counters and totals
        note(f"T={steps}: prepared in {time.perf_counter() - t0:.1f} s")
        bound = moves_bound(steps)
        for degree in DEGREES:
            f = timed_game(a, p, degree)
            suffix = "" if degree == 2 else f"_d{degree}"
            print(f"moves_T{steps}{suffix}: {f.moves}")
            print(f"gas_T{steps}{suffix}: {f.gas}")
            print(f"wall_s_T{steps}{suffix}: {f.wall_s:.2f}")
            print(f"max_tx_gas_T{steps}{suffix}: {f.max_tx_gas}", flush=True)
            if degree == 2 and f.moves > bound:
                met = False
            if log2_steps == max(sizes) and f.gas >= GAS_TOTAL_TARGET:
                met = False
            if f.max_tx_gas > GAS_TX_TARGET:
                met = False
        print(f"moves_bound_T{steps}: {bound}", flush=True)
    t0 = time.perf_counter()
    per_op, recs = onestep_gas(a)
    note(f"one-step games played in {time.perf_counter() - t0:.1f} s")
    for kind, used in per_op.items():
        print(f"onestep_gas_{kind}: {used}")
    print(f"onestep_gas_max: {max(per_op.values())}")
    if max(g.gas_used for g in recs) > GAS_TX_TARGET:
        met = False
    print(f"targets_met: {'yes' if met else 'no'}", flush=True)

if __name__ == "__main__":
    raise SystemExit(main())
