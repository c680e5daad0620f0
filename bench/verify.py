"""Verification figures: what re-execution costs a verifier, and how often each cheating strategy is caught.

``python -m bench.verify [--runs N]`` prints ``name: value`` lines:

- ``verifier_compute_fraction``: on the digits job of ``examples/digits.yaml`` (1000 steps in 4 windows), the wall
  time of a verifier at the default sampling rate (0.25: it loads the solver's checkpoint before each sampled
  window, checks its root, re-executes the window and compares the end root) ÷ the wall time of the solver
  (training every window, serializing each checkpoint and computing its state root). Both run in this process,
  solver first; the ratio is of the medians over 3 alternating rounds.
- ``detect_<strategy>``: the fraction of ``N`` seeded runs in which a verifier at the default rate finds a wrong
  window, on a 16-window job of the tiny model (64 steps). Each run draws the cheat's step and the verifier's
  secret from the seed; the cheater trains on from its wrong state, so its later checkpoints are consistent with
  its own trace. The check is the challenger agent's: start from the solver's checkpoint before the window
  (``ExactOracle.known``), re-execute, compare the end root. ``detect_<strategy>_whistleblower`` is the same for
  a whistleblower (rate 1.0).

Detection by checkpoint sampling finds the window where the computation went wrong, so a cheat confined to one
window is caught at about the sampling rate per verifier; strategies that are wrong in every window (seed,
learning rate) are always caught. The dispute game then proves whichever window is found.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from trainyard import runtime as rt
from trainyard.challenger.logic import ChallengerPolicy, sampled_windows
from trainyard.dispute import scenario as sc
from trainyard.dispute.oracle import ExactOracle, Live, Tamper
from trainyard.runtime.data import Dataset
from trainyard.runtime.model import State, TrainConfig
from trainyard.spec import load_spec
from trainyard.submitter import checked_job

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RATE = ChallengerPolicy().sample_rate


def solver_run(cfg: TrainConfig, data: Dataset) -> list[bytes]:
    """Train every window, serialize each checkpoint and compute its root (what a solver does); the checkpoints."""
    state = rt.init_state(cfg, data)
    blobs = []
    for _ in range(cfg.steps // cfg.checkpoint_interval):
        state = rt.train(cfg, data, state, cfg.checkpoint_interval)
        state.root()
        blobs.append(rt.save_checkpoint(state))
    return blobs


def verifier_run(cfg: TrainConfig, data: Dataset, blobs: list[bytes], windows: list[int]) -> None:
    """Re-execute the sampled windows from the solver's checkpoints and compare the end roots."""
    c = cfg.checkpoint_interval
    for w in windows:
        start = rt.load_checkpoint(blobs[w - 1]) if w else rt.init_state(cfg, data)
        start.root()  # checked against the trace leaf
        end = rt.train(cfg, data, start, c)
        if end.root() != rt.load_checkpoint(blobs[w]).root():
            raise AssertionError("an honest trace failed verification")


def compute_fraction(rounds: int = 3) -> float:
    spec = load_spec(ROOT / "examples" / "digits.yaml")
    sub, cfg = checked_job(spec)
    data = sub.data
    n = cfg.steps // cfg.checkpoint_interval
    windows = sampled_windows(ChallengerPolicy(secret=b"bench"), 1, n)
    solver_t, verifier_t = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        blobs = solver_run(cfg, data)
        t1 = time.perf_counter()
        verifier_run(cfg, data, blobs, windows)
        t2 = time.perf_counter()
        solver_t.append(t1 - t0)
        verifier_t.append(t2 - t1)
    return statistics.median(verifier_t) / statistics.median(solver_t)


# -- detection ----------------------------------------------------------------------------------------------
Strategy = Callable[[TrainConfig, Dataset, random.Random], ExactOracle]
SGD_W0 = 11  # op index of sgd on l0.weight for two layers


def _nudge(name: str, pos: int, by: int) -> Callable[[Live, Live], None]:
    def fn(live: Live, start: Live) -> None:
        t = live[name].clone()
        t.view(-1)[pos % t.numel()] += by
        live[name] = t

    return fn


def _restore(live: Live, start: Live) -> None:
    for p in ("l0.weight", "l0.bias", "l1.weight", "l1.bias"):
        live[p], live[p + ".momentum"] = start[p], start[p + ".momentum"]


STRATEGIES: dict[str, Strategy] = {
    "perturbed_weight": lambda cfg, data, rng: ExactOracle(
        cfg, data, (Tamper(rng.randrange(cfg.steps), SGD_W0, _nudge("l0.weight", rng.randrange(20), 3)),)
    ),
    "skipped_step": lambda cfg, data, rng: ExactOracle(cfg, data, (Tamper(rng.randrange(cfg.steps), 14, _restore),)),
    "relu_left_out": lambda cfg, data, rng: ExactOracle(
        cfg,
        data,
        (Tamper(rng.randrange(cfg.steps), 3, lambda live, start: live.__setitem__("a1", live["z0"].clone())),),
    ),
    "wrong_seed": lambda cfg, data, rng: ExactOracle(
        dataclasses.replace(cfg, seed=cfg.seed + 1 + rng.randrange(99)), data
    ),
    "wrong_learning_rate": lambda cfg, data, rng: ExactOracle(dataclasses.replace(cfg, learning_rate=0.25), data),
}


def detected(cfg: TrainConfig, data: Dataset, cheat: ExactOracle, windows: list[int]) -> bool:
    """Whether a verifier checking ``windows`` from the cheater's checkpoints finds a wrong one."""
    c = cfg.checkpoint_interval
    for w in windows:
        start: State = cheat.state(w * c)
        honest = ExactOracle(cfg, data)
        honest.known(start)
        if honest.state_root((w + 1) * c) != cheat.state_root((w + 1) * c):
            return True
    return False


def detection_rates(runs: int) -> dict[str, tuple[float, float]]:
    cfg = sc.tiny_config(steps=64, interval=4)
    data = sc.tiny_dataset()
    n = cfg.steps // cfg.checkpoint_interval
    out = {}
    for name, make in STRATEGIES.items():
        caught = caught_all = 0
        for seed in range(runs):
            rng = random.Random(f"{name}-{seed}")
            cheat = make(cfg, data, rng)
            windows = sampled_windows(ChallengerPolicy(secret=rng.randbytes(16)), 1, n)
            caught += detected(cfg, data, cheat, windows)
            caught_all += detected(cfg, data, cheat, list(range(n)))
        out[name] = (caught / runs, caught_all / runs)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.verify", description=__doc__)
    ap.add_argument("--runs", type=int, default=40, help="seeded runs per strategy (default 40)")
    args = ap.parse_args(argv)
    print(f"sample_rate: {DEFAULT_RATE}")
    print(f"verifier_compute_fraction: {compute_fraction():.3f}")
    for name, (rate, rate_all) in detection_rates(args.runs).items():
        print(f"detect_{name}: {rate:.3f}")
        print(f"detect_{name}_whistleblower: {rate_all:.3f}")
    print(f"runs_per_strategy: {args.runs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
