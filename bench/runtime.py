"""Exact runtime figures, each a ratio against a baseline run in the same process.

``python -m bench.runtime [--steps N]`` prints ``name: value`` lines:

- ``exact_vs_float32``: time of exact steps of an MLP 784-512-512-10, batch 128, on synthetic data ÷ time of
  the same steps in float32 PyTorch (same model, batches and hyper-parameters), median over rounds of 100 steps
  run alternately (see :func:`interleaved`);
- ``commit_overhead``: exact training with everything a solver commits (a checkpoint every 100 steps, serialized,
  state root computed, and the digests of the window's 16 interior states for its interior root) ÷ the same
  training without; ``interior_digest_overhead`` is the part of it due to the interior digests;
- ``gemm_float64_vs_float32``: the same model's matmuls alone in float64 ÷ float32, the floor of the first ratio
  for an exact path that runs on float64 BLAS;
- ``state_hash_MBps``: megabytes of state committed (tensor chunks hashed into the state root) per second;
- ``digits_accuracy_exact`` / ``digits_accuracy_float32``: test accuracy on scikit-learn's digits.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import numpy as np
import torch

from trainyard import runtime as rt
from trainyard.runtime.commit import interior_count
from trainyard.runtime.fixed import ONE, batch_indices, to_fixed


def synthetic(n: int = 4096, d: int = 784, classes: int = 10) -> rt.Dataset:
    rng = np.random.default_rng(0)
    return rt.Dataset.from_arrays(to_fixed(rng.random((n, d))), rng.integers(0, classes, n))


class Float32Run:
    """The same MLP, initial weights, batches and hyper-parameters in ordinary float32 PyTorch."""

    def __init__(self, cfg: rt.TrainConfig, data: rt.Dataset) -> None:
        self.cfg, self.data, self.step = cfg, data, 0
        self.model = rt.float_module(cfg.layers)
        self.model.load_state_dict(rt.export_float_state_dict(rt.init_state(cfg, data)))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=cfg.learning_rate, momentum=cfg.momentum)
        self.x = data.x.double().div(ONE).float()
        self.idx = data.train_index

    def run(self, steps: int) -> float:
        t = time.perf_counter()
        for _ in range(steps):
            rows = self.idx[
                torch.from_numpy(batch_indices(self.cfg.seed, self.step, self.cfg.batch_size, len(self.idx)))
            ]
            self.opt.zero_grad()
            torch.nn.functional.cross_entropy(self.model(self.x[rows]), self.data.y[rows]).backward()
            self.opt.step()
            self.step += 1
        return time.perf_counter() - t


def interleaved(cfg: rt.TrainConfig, data: rt.Dataset, rounds: int, block: int = 100) -> tuple[float, float, float]:
    """(exact ÷ float32, (exact + checkpoints) ÷ exact), from rounds of ``block`` steps run alternately, so that load
    from other processes on the machine falls on both sides of each ratio: the median of the per-round ratios. The
    checkpoint (serialization + state root, every ``block`` steps) is timed on its own at the end of each round."""
    state = rt.init_state(cfg, data)
    f32 = Float32Run(cfg, data)
    state = rt.train(cfg, data, state, 3)  # warm up both
    f32.run(3)
    speed, commit, digest = [], [], []
    for _ in range(rounds):
        t = time.perf_counter()
        state = rt.train(cfg, data, state, block)
        t_exact = time.perf_counter() - t
        t_f32 = f32.run(block)
        t = time.perf_counter()
        rt.save_checkpoint(state)
        state.root()
        t_ckpt = time.perf_counter() - t
        t = time.perf_counter()
        for _ in range(interior_count(block)):  # the interior digests (their cost does not depend on the state)
            rt.state_digest(state.step, state.tensors)
        t_digest = time.perf_counter() - t
        speed.append(t_exact / t_f32)
        commit.append((t_exact + t_ckpt + t_digest) / t_exact)
        digest.append((t_exact + t_digest) / t_exact)
    return statistics.median(speed), statistics.median(commit), statistics.median(digest)


def gemm_ratio(cfg: rt.TrainConfig, reps: int = 30) -> float:
    """Forward and backward matmul shapes of one step, float64 ÷ float32."""
    b = cfg.batch_size
    shapes = []
    for i, o in itertools.pairwise(cfg.layers):
        shapes += [((b, i), (i, o)), ((o, b), (b, i)), ((b, o), (o, i))]

    def run(dtype: torch.dtype) -> float:
        ms = [(torch.randn(*x, dtype=dtype), torch.randn(*y, dtype=dtype)) for x, y in shapes]
        for x, y in ms:
            x @ y
        t = time.perf_counter()
        for _ in range(reps):
            for x, y in ms:
                x @ y
        return time.perf_counter() - t

    return run(torch.float64) / run(torch.float32)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=500)
    args = ap.parse_args()
    data = synthetic()
    cfg = rt.TrainConfig(
        layers=(784, 512, 512, 10),
        learning_rate=0.01,
        batch_size=128,
        steps=args.steps,
        checkpoint_interval=100,
        seed=1,
        momentum=0.9,
    )
    rt.validate_config(cfg, data)
    ratio, overhead, digest = interleaved(cfg, data, max(1, args.steps // 100))
    print(f"exact_vs_float32: {ratio:.2f}")
    print(f"commit_overhead: {overhead:.3f}")
    print(f"interior_digest_overhead: {digest:.3f}")
    print(f"gemm_float64_vs_float32: {gemm_ratio(cfg):.2f}")
    state = rt.init_state(cfg, data)
    nbytes = sum(t.numel() * 8 for t in state.tensors.values())
    t = time.perf_counter()
    for _ in range(3):
        state.root()
    print(f"state_hash_MBps: {3 * nbytes / (time.perf_counter() - t) / 1e6:.0f}")
    digits = rt.digits_dataset()
    dcfg = rt.TrainConfig(
        layers=(64, 64, 10),
        learning_rate=0.05,
        batch_size=32,
        steps=1000,
        checkpoint_interval=250,
        seed=7,
        momentum=0.9,
    )
    exact = rt.evaluate(dcfg, digits, rt.train(dcfg, digits, rt.init_state(dcfg, digits), dcfg.steps))
    print(f"digits_accuracy_exact: {exact:.4f}")
    print(f"digits_accuracy_float32: {rt.train_float32(dcfg, digits):.4f}")


if __name__ == "__main__":
    main()
