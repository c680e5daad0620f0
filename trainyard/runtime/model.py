"""Exact training of an MLP (Linear → ReLU → … → Linear) with softmax cross-entropy and SGD (+ momentum).

One step, all in int64 fixed point (rules in :mod:`trainyard.runtime.fixed`):

1. batch: indices from (seed, step) by :func:`~trainyard.runtime.fixed.batch_indices`; a_0 = X[idx].
2. forward, layer l: z_l = clamp(rshift_round(a_{l-1} @ W_l^T) + b_l); a_l = max(z_l, 0) (not on the last layer).
3. loss gradient: g = softmax(z_L) - onehot(y)·ONE (the gradient of the summed cross-entropy, scale ONE).
4. backward, layer l: dW_l = clamp(rshift_round(g^T @ a_{l-1})); db_l = clamp(Σ_batch g);
   g ← clamp(rshift_round(g @ W_l)) masked by z_{l-1} > 0 (computed with the weights before the update).
5. SGD: v ← clamp(rshift_round(μ·v) + dW, 2^24) when momentum μ > 0 (else v = dW);
   W ← clamp(W - div_round(lr·v, B·ONE)), with lr and μ in fixed point (round(lr·2^16), round(μ·2^16)).

Initial weights (He uniform): W_l[i, j] = (splitmix64(splitmix64(seed) + (l+1)·0x5851F42D4C957F2D + i·in + j) mod
(2r+1)) - r with r = isqrt(6·ONE² / fan_in); biases 0.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from trainyard.runtime import commit
from trainyard.runtime.data import Dataset
from trainyard.runtime.fixed import (
    CLAMP,
    FRAC,
    MAX_WIDTH,
    ONE,
    batch_indices,
    clamp,
    div_round,
    matmul,
    rshift_round,
    softmax,
    splitmix64,
    splitmix64_int,
)

MOMENTUM_CLAMP = 1 << 24


class RuntimeConfigError(ValueError):
    """Hyper-parameters whose value bounds the runtime cannot guarantee."""


@dataclass(frozen=True)
class TrainConfig:
    layers: tuple[int, ...]
    learning_rate: float
    batch_size: int
    steps: int
    checkpoint_interval: int
    seed: int
    momentum: float = 0.0

    @classmethod
    def from_spec(cls, layers: Sequence[int], training: Mapping[str, Any]) -> TrainConfig:
        """From a spec's model widths and its `training` section (the stored document's, or asdict of the spec's)."""
        return cls(
            layers=tuple(int(w) for w in layers), learning_rate=float(training["learning_rate"]),
            batch_size=int(training["batch_size"]), steps=int(training["steps"]),
            checkpoint_interval=int(training["checkpoint_interval"]), seed=int(training["seed"]),
            momentum=float(training.get("momentum", 0.0)),
        )

    @property
    def lr_fixed(self) -> int:
        return round(self.learning_rate * ONE)

    @property
    def momentum_fixed(self) -> int:
        return round(self.momentum * ONE)


def validate_config(cfg: TrainConfig, data: Dataset | None = None) -> None:
    """Reject configurations whose bounds cannot be guaranteed (see the module docs), with the reason."""
    if len(cfg.layers) < 2 or any(not 1 <= w <= MAX_WIDTH for w in cfg.layers):
        raise RuntimeConfigError(
            f"layer widths must be 1..{MAX_WIDTH} (bounds every matmul below 2^53), got {cfg.layers}"
        )
    if not 1 <= cfg.batch_size <= MAX_WIDTH:
        raise RuntimeConfigError(
            f"batch_size must be 1..{MAX_WIDTH} (bounds the weight-gradient sums), got {cfg.batch_size}"
        )
    lr = cfg.lr_fixed
    if lr < 1 or abs(lr - cfg.learning_rate * ONE) > 0.01 * cfg.learning_rate * ONE:
        raise RuntimeConfigError(
            f"learning_rate {cfg.learning_rate} is not within 1% of a multiple of 2^-16 (use at least {100 / ONE:.5f})"
        )
    if lr > 16 * ONE:
        raise RuntimeConfigError(f"learning_rate must be at most 16, got {cfg.learning_rate}")
    if not 0 <= cfg.momentum_fixed < ONE:
        raise RuntimeConfigError(f"momentum must be in [0, 1), got {cfg.momentum}")
    if cfg.steps < 1 or cfg.checkpoint_interval < 1 or cfg.steps % cfg.checkpoint_interval:
        raise RuntimeConfigError("steps must be a positive multiple of checkpoint_interval")
    if data is not None:
        if data.n_features != cfg.layers[0]:
            raise RuntimeConfigError(f"the first layer width must equal the {data.n_features} features of the data")
        if data.n_classes > cfg.layers[-1]:
            raise RuntimeConfigError(f"the last layer width must be at least the {data.n_classes} classes of the data")


@dataclass
class State:
    """Parameters and optimizer buffers (int64, fixed point) after ``step`` steps."""

    step: int
    layers: tuple[int, ...]
    tensors: dict[str, torch.Tensor] = field(repr=False)

    def root(self) -> bytes:
        return commit.state_root(self.step, self.tensors)

    def weight(self, l: int) -> torch.Tensor:
        return self.tensors[f"l{l}.weight"]

    def bias(self, l: int) -> torch.Tensor:
        return self.tensors[f"l{l}.bias"]


def init_state(cfg: TrainConfig, data: Dataset | None = None, device: str = "cpu") -> State:
    base = splitmix64_int(cfg.seed & ((1 << 64) - 1))
    tensors: dict[str, torch.Tensor] = {}
    for l, (fan_in, fan_out) in enumerate(itertools.pairwise(cfg.layers)):
        r = math.isqrt(6 * ONE * ONE // fan_in)
        start = (base + (l + 1) * 0x5851F42D4C957F2D) & ((1 << 64) - 1)
        with np.errstate(over="ignore"):
            h = splitmix64(np.uint64(start) + np.arange(fan_out * fan_in, dtype=np.uint64))
        w = (h % np.uint64(2 * r + 1)).astype(np.int64) - r
        tensors[f"l{l}.weight"] = torch.from_numpy(w.reshape(fan_out, fan_in)).to(device)
        tensors[f"l{l}.bias"] = torch.zeros(fan_out, dtype=torch.int64, device=device)
        if cfg.momentum_fixed:
            tensors[f"l{l}.weight.momentum"] = torch.zeros(fan_out, fan_in, dtype=torch.int64, device=device)
            tensors[f"l{l}.bias.momentum"] = torch.zeros(fan_out, dtype=torch.int64, device=device)
    return State(0, tuple(cfg.layers), tensors)


# -- the ops of a step, one function each (the training program's interpreter calls the same ones) ----------
def sample_batch(cfg: TrainConfig, data: Dataset, step: int, device: str | torch.device = "cpu"
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """(a0, y) of step ``step``: the training rows :func:`~trainyard.runtime.fixed.batch_indices` names."""
    train_idx = data.train_index
    rows = train_idx[torch.from_numpy(batch_indices(cfg.seed, step, cfg.batch_size, len(train_idx)))]
    return data.x[rows].to(device), data.y[rows].to(device)


def linear(a: torch.Tensor, w: torch.Tensor, b: torch.Tensor, matmul_path: str = "auto",
           shift: int = FRAC, bound: int = CLAMP) -> torch.Tensor:
    """z = clamp(rshift_round(a @ w^T) + b): a [B, in], w [out, in], b [out]."""
    return clamp(rshift_round(matmul(a, w.T, matmul_path, clamped=True), shift) + b, bound)


def relu(z: torch.Tensor) -> torch.Tensor:
    return torch.relu(z)


def softmax_xent_grad(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """g = softmax(z) - onehot(y)·ONE: the gradient of the summed cross-entropy of logits z [B, C] and
    labels y [B]."""
    g = softmax(z)
    g[torch.arange(len(y), device=g.device), y] -= ONE
    return g


def linear_grad_weight(g: torch.Tensor, a: torch.Tensor, matmul_path: str = "auto",
                       shift: int = FRAC, bound: int = CLAMP) -> torch.Tensor:
    """dW = clamp(rshift_round(g^T @ a)): g [B, out], a [B, in] -> [out, in]."""
    return clamp(rshift_round(matmul(g.T, a, matmul_path, clamped=True), shift), bound)


def linear_grad_bias(g: torch.Tensor, bound: int = CLAMP) -> torch.Tensor:
    """db = clamp(Σ_batch g): g [B, out] -> [out]."""
    return clamp(g.sum(dim=0), bound)


def linear_grad_input(g: torch.Tensor, w: torch.Tensor, z: torch.Tensor, matmul_path: str = "auto",
                      shift: int = FRAC, bound: int = CLAMP) -> torch.Tensor:
    """clamp(rshift_round(g @ w)) where z > 0, else 0 (the ReLU's mask): g [B, out], w [out, in],
    z [B, in] -> [B, in]."""
    ga = clamp(rshift_round(matmul(g, w, matmul_path, clamped=True), shift), bound)
    return torch.where(z > 0, ga, torch.zeros_like(ga))


def momentum_update(v: torch.Tensor, grad: torch.Tensor, mu: int, shift: int = FRAC,
                    bound: int = MOMENTUM_CLAMP) -> torch.Tensor:
    """v' = clamp(rshift_round(μ·v) + grad, 2^24), μ in fixed point."""
    return clamp(rshift_round(mu * v, shift) + grad, bound)


def sgd_update(p: torch.Tensor, v: torch.Tensor, lr: int, divisor: int, bound: int = CLAMP) -> torch.Tensor:
    """p' = clamp(p - div_round(lr·v, divisor)), lr in fixed point, divisor B·ONE."""
    return clamp(p - div_round(lr * v, divisor), bound)


def forward(state: State, x: torch.Tensor, matmul_path: str = "auto") -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Activations a_0..a_{L-1} and pre-activations z_1..z_L."""
    acts, zs = [x], []
    n = len(state.layers) - 1
    for l in range(n):
        z = linear(acts[-1], state.weight(l), state.bias(l), matmul_path)
        zs.append(z)
        if l < n - 1:
            acts.append(relu(z))
    return acts, zs


def step_ops(
    cfg: TrainConfig, data: Dataset, state: State, matmul_path: str = "auto"
) -> Iterator[tuple[str, dict[str, torch.Tensor]]]:
    """One exact training step as a sequence of ops over a dict of live tensors.

    Yields (op name, live tensors) after each op; the live dict starts as the state's parameters and buffers, gains
    the step's intermediates (batch, activations, gradients) and ends as the next state's tensors. :func:`step`
    runs this same sequence without looking, so the op-level trace and training cannot drift apart.
    """
    live = state.tensors
    device = state.weight(0).device
    n = len(state.layers) - 1
    live["a0"], live["y"] = sample_batch(cfg, data, state.step, device)
    yield "batch", live
    for l in range(n):
        live[f"z{l}"] = linear(live[f"a{l}"], live[f"l{l}.weight"], live[f"l{l}.bias"], matmul_path)
        yield f"linear{l}", live
        if l < n - 1:
            live[f"a{l + 1}"] = relu(live[f"z{l}"])
            yield f"relu{l}", live
    live[f"g{n - 1}"] = softmax_xent_grad(live[f"z{n - 1}"], live["y"])
    yield "softmax_xent_grad", live
    for l in range(n - 1, -1, -1):
        live[f"l{l}.weight.grad"] = linear_grad_weight(live[f"g{l}"], live[f"a{l}"], matmul_path)
        yield f"grad_weight{l}", live
        live[f"l{l}.bias.grad"] = linear_grad_bias(live[f"g{l}"])
        yield f"grad_bias{l}", live
        if l > 0:
            live[f"g{l - 1}"] = linear_grad_input(live[f"g{l}"], live[f"l{l}.weight"], live[f"z{l - 1}"],
                                                  matmul_path)
            yield f"grad_input{l}", live
    for l in range(n):
        for name in (f"l{l}.weight", f"l{l}.bias"):
            v = live.pop(name + ".grad")
            if cfg.momentum_fixed:
                v = momentum_update(live[name + ".momentum"], v, cfg.momentum_fixed)
                live[name + ".momentum"] = v
            live[name] = sgd_update(live[name], v, cfg.lr_fixed, cfg.batch_size * ONE)
            yield f"sgd_{name}", live
    for key in [k for k in live if not k.startswith("l")]:
        del live[key]
    state.step += 1
    yield "end", live


def step(cfg: TrainConfig, data: Dataset, state: State, matmul_path: str = "auto") -> None:
    """One exact training step, in place; state.step advances by one."""
    for _ in step_ops(cfg, data, state, matmul_path):
        pass


def train(
    cfg: TrainConfig,
    data: Dataset,
    state: State,
    steps: int,
    *,
    threads: int | None = None,
    matmul: str = "auto",
    device: str = "cpu",
    progress: Callable[[int], None] | None = None,
    observe: Callable[[State], None] | None = None,
) -> State:
    """Advance a copy of ``state`` by ``steps`` exact steps (the result does not depend on threads, path or device).
    ``observe`` sees the state after every step (not a copy: it must not keep or change it)."""
    out = State(state.step, state.layers, {k: v.clone().to(device) for k, v in state.tensors.items()})
    old_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        for _ in range(steps):
            step(cfg, data, out, matmul)
            if observe is not None:
                observe(out)
            if progress is not None:
                progress(out.step)
    finally:
        torch.set_num_threads(old_threads)
    return out


def logits(state: State, x: torch.Tensor) -> torch.Tensor:
    return forward(state, x.to(state.weight(0).device))[1][-1]


def evaluate(cfg: TrainConfig, data: Dataset, state: State) -> float:
    """Test accuracy: argmax of the exact logits (ties to the lowest class)."""
    idx = data.test_index
    pred = logits(state, data.x[idx]).argmax(dim=1).cpu()
    return float((pred == data.y[idx]).double().mean().item())


def export_float_state_dict(state: State) -> dict[str, torch.Tensor]:
    """The model as float32 tensors for ``torch.nn.Sequential(Linear, ReLU, ..., Linear)`` (keys 0.weight, …)."""
    out: dict[str, torch.Tensor] = {}
    for l in range(len(state.layers) - 1):
        out[f"{2 * l}.weight"] = state.weight(l).cpu().to(torch.float64).div(ONE).float()
        out[f"{2 * l}.bias"] = state.bias(l).cpu().to(torch.float64).div(ONE).float()
    return out


def float_module(layers: tuple[int, ...]) -> torch.nn.Sequential:
    mods: list[torch.nn.Module] = []
    for l, (i, o) in enumerate(itertools.pairwise(layers)):
        mods.append(torch.nn.Linear(i, o))
        if l < len(layers) - 2:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


def train_float32(cfg: TrainConfig, data: Dataset) -> float:
    """The same MLP, initial weights, batches and hyper-parameters in ordinary float32 PyTorch; test accuracy.
    The baseline the exact runtime is compared with."""
    model = float_module(cfg.layers)
    model.load_state_dict(export_float_state_dict(init_state(cfg, data)))
    opt = torch.optim.SGD(model.parameters(), lr=cfg.learning_rate, momentum=cfg.momentum)
    x_all = data.x.double().div(ONE).float()
    train_idx = data.train_index
    for s in range(cfg.steps):
        rows = train_idx[torch.from_numpy(batch_indices(cfg.seed, s, cfg.batch_size, len(train_idx)))]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x_all[rows]), data.y[rows])
        loss.backward()
        opt.step()
    idx = data.test_index
    with torch.no_grad():
        pred = model(x_all[idx]).argmax(dim=1)
    return float((pred == data.y[idx]).double().mean().item())


def save_checkpoint(state: State) -> bytes:
    return commit.serialize(state.step, {"layers": list(state.layers)}, state.tensors)


def load_checkpoint(data: bytes) -> State:
    step_, meta, tensors = commit.deserialize(data)
    layers = meta.get("layers")
    if not isinstance(layers, list):
        raise ValueError("checkpoint without layer widths")
    return State(step_, tuple(int(w) for w in layers), tensors)
