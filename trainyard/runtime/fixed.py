"""Fixed-point arithmetic on int64 tensors: the exact ops every training step is made of.

Every value is an integer v standing for v / 2^16 (``FRAC`` bits, ``ONE`` = 65536). Each op's rounding rule:

- ``rshift_round(x, k)`` = floor((x + 2^(k-1)) / 2^k): halves round up (towards +inf). Used after every product
  of two fixed-point numbers (k = 16).
- ``div_round(x, d)`` = floor((x + floor(d/2)) / d) for d > 0: the same rule for a general divisor.
- ``clamp``: weights, biases, activations, gradients and momentum are clamped to [-CLAMP, CLAMP] (±16.0) after each
  op that produces them. With widths and batch sizes at most 4096 this bounds every partial sum of every matmul by
  4096 · 2^20 · 2^20 = 2^52 < 2^53, so the float64 matmul path is provably exact (see :func:`matmul`).
- ``matmul``: exact integer product. "float64": BLAS on integer-valued float64 tensors, allowed only when
  max|a| · max|b| · k < 2^53 (every partial sum is then an exactly representable integer, whatever the summation
  order, FMA or thread count); "int64": integer matmul, allowed when the bound is < 2^63; "auto" picks float64 when
  it is provably exact. A bound that neither path can meet raises :class:`OverflowDetected`: never silent.
"""

from __future__ import annotations

import math

import numpy as np
import torch

FRAC = 16
ONE = 1 << FRAC
CLAMP = 1 << 20
_F64_EXACT = 1 << 53
_I64_SAFE = 1 << 63
MAX_WIDTH = 4096


class OverflowDetected(ArithmeticError):
    """An op's value bound could exceed what its arithmetic holds exactly."""


def rshift_round(x: torch.Tensor, k: int = FRAC) -> torch.Tensor:
    return (x + (1 << (k - 1))) >> k


def div_round(x: torch.Tensor, d: int) -> torch.Tensor:
    if d & (d - 1) == 0:  # a power of two (the SGD divisor B·ONE when B is one): the same value by a shift, 10× faster
        return x if d == 1 else rshift_round(x, d.bit_length() - 1)
    return torch.div(x + d // 2, d, rounding_mode="floor")


def clamp(x: torch.Tensor, bound: int = CLAMP) -> torch.Tensor:
    return x.clamp(-bound, bound)


def _absmax(x: torch.Tensor) -> int:
    return int(x.abs().max().item()) if x.numel() else 0


def matmul_bound(a: torch.Tensor, b: torch.Tensor) -> int:
    """An upper bound of |every partial sum| of a @ b."""
    return _absmax(a) * _absmax(b) * a.shape[-1]


def matmul(a: torch.Tensor, b: torch.Tensor, path: str = "auto", clamped: bool = False) -> torch.Tensor:
    """Exact int64 a @ b by the chosen path (see the module docstring). ``clamped=True`` is the caller's promise
    that every entry of both operands is within ±CLAMP (true of every tensor the training step multiplies): the
    bound is then CLAMP² · k, known without looking at the values."""
    bound = CLAMP * CLAMP * a.shape[-1] if clamped else matmul_bound(a, b)
    if path == "auto":
        path = "float64" if bound < _F64_EXACT else "int64"
    if path == "float64":
        if bound >= _F64_EXACT:
            raise OverflowDetected(f"float64 matmul not provably exact: bound {bound} >= 2^53")
        return (a.to(torch.float64) @ b.to(torch.float64)).to(torch.int64)
    if path == "int64":
        if bound >= _I64_SAFE:
            raise OverflowDetected(f"int64 matmul may overflow: bound {bound} >= 2^63")
        return a @ b
    raise ValueError(f"unknown matmul path {path!r} (auto, float64, int64)")


# -- integer softmax ----------------------------------------------------------------------------------------
LOG2E = round(math.log2(math.e) * ONE)  # 94548
# 2^f for f in [0, 1): 1 + f·(C1 + f·(C2 + f·(C3 + f·(C4 + f·C5)))), coefficients of the Taylor series of 2^f
EXP2_COEFFS = tuple(round(math.log(2) ** n / math.factorial(n) * ONE) for n in range(1, 6))  # C1..C5


def exp2_frac(f: torch.Tensor) -> torch.Tensor:
    """2^(f / ONE) · ONE for 0 <= f < ONE, by Horner's rule with rshift_round after each product."""
    acc = torch.full_like(f, EXP2_COEFFS[-1])
    for c in reversed(EXP2_COEFFS[:-1]):
        acc = rshift_round(acc * f) + c
    return ONE + rshift_round(acc * f)


def softmax(z: torch.Tensor) -> torch.Tensor:
    """Row-wise softmax of fixed-point logits, as fixed point: exp(d) = 2^(d·log2 e) with d = z - max(z) <= 0,
    split into an integer part (a right shift) and a fraction (:func:`exp2_frac`); p = floor(e·ONE / Σe)."""
    d = z - z.max(dim=-1, keepdim=True).values
    t = rshift_round(d * LOG2E)
    n = t >> FRAC  # floor, <= 0
    f = t - (n << FRAC)
    shift = (-n).clamp(max=62)
    e = torch.bitwise_right_shift(exp2_frac(f), shift)
    return torch.div(e << FRAC, e.sum(dim=-1, keepdim=True), rounding_mode="floor")


# -- counter-based hash (also what a Solidity twin computes) ------------------------------------------------
_M64 = (1 << 64) - 1


def splitmix64(x: np.ndarray | int) -> np.ndarray:
    """SplitMix64's finaliser on uint64 (wrapping arithmetic)."""
    z = np.asarray(x, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def splitmix64_int(x: int) -> int:
    """The same on a Python int (reference for tests and for Solidity)."""
    z = (x + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def batch_indices(seed: int, step: int, batch_size: int, n: int) -> np.ndarray:
    """Sample indices of step ``step`` (with replacement): splitmix64(splitmix64(seed) + step·B + k) mod n."""
    base = int(splitmix64_int(seed & _M64))
    with np.errstate(over="ignore"):
        counters = np.uint64(base) + np.uint64((step * batch_size) & _M64) + np.arange(batch_size, dtype=np.uint64)
    return (splitmix64(counters) % np.uint64(n)).astype(np.int64)


def to_fixed(x: np.ndarray) -> np.ndarray:
    """Float data to fixed point: floor(x·ONE + 0.5) in float64 (exact for |x| < 2^36), clamped to ±CLAMP."""
    v = np.floor(np.asarray(x, dtype=np.float64) * ONE + 0.5)
    if not np.all(np.isfinite(v)):
        raise ValueError("the data has NaN or infinite values")
    return np.clip(v, -CLAMP, CLAMP).astype(np.int64)
