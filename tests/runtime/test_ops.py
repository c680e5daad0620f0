"""Each fixed-point op against a pure-Python big-integer reference of its written rule (hypothesis)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trainyard.runtime.fixed import (
    CLAMP,
    EXP2_COEFFS,
    LOG2E,
    ONE,
    OverflowDetected,
    batch_indices,
    clamp,
    div_round,
    exp2_frac,
    matmul,
    rshift_round,
    softmax,
    splitmix64,
    splitmix64_int,
    to_fixed,
)

i64 = st.integers(min_value=-(2**46), max_value=2**46)
fixed = st.integers(min_value=-CLAMP, max_value=CLAMP)


@settings(max_examples=200, deadline=None)
@given(st.lists(i64, min_size=1, max_size=50), st.integers(min_value=1, max_value=20))
def test_rshift_round_is_floor_of_x_plus_half(xs, k):
    got = rshift_round(torch.tensor(xs, dtype=torch.int64), k).tolist()
    assert got == [(x + 2 ** (k - 1)) // 2**k for x in xs]  # Python's // is floor division


@settings(max_examples=200, deadline=None)
@given(st.lists(i64, min_size=1, max_size=50), st.integers(min_value=1, max_value=2**20))
def test_div_round_is_floor_of_x_plus_half_divisor(xs, d):
    assert div_round(torch.tensor(xs, dtype=torch.int64), d).tolist() == [(x + d // 2) // d for x in xs]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=-(2**40), max_value=2**40), min_size=1, max_size=30))
def test_clamp_saturates_at_bound(xs):
    assert clamp(torch.tensor(xs)).tolist() == [max(-CLAMP, min(CLAMP, x)) for x in xs]


@st.composite
def matrices(draw, lo=-CLAMP, hi=CLAMP):
    m, k, n = (draw(st.integers(1, 6)) for _ in range(3))
    a = draw(st.lists(st.integers(lo, hi), min_size=m * k, max_size=m * k))
    b = draw(st.lists(st.integers(lo, hi), min_size=k * n, max_size=k * n))
    return torch.tensor(a).reshape(m, k), torch.tensor(b).reshape(k, n)


@settings(max_examples=200, deadline=None)
@given(matrices())
def test_matmul_paths_agree_with_big_int_reference(ab):
    a, b = ab
    ref = [
        [sum(int(a[i, t]) * int(b[t, j]) for t in range(a.shape[1])) for j in range(b.shape[1])]
        for i in range(a.shape[0])
    ]
    assert matmul(a, b, "float64").tolist() == ref
    assert matmul(a, b, "int64").tolist() == ref
    assert matmul(a, b, "auto").tolist() == ref


def test_matmul_float64_refuses_unprovable_bounds_and_int64_overflow():
    a = torch.full((2, 4), 2**26, dtype=torch.int64)
    b = torch.full((4, 2), 2**26, dtype=torch.int64)
    with pytest.raises(OverflowDetected, match="2\\^53"):
        matmul(a, b, "float64")
    assert matmul(a, b, "auto").tolist() == [[4 * 2**52] * 2] * 2  # falls back to int64, still exact
    big = torch.full((2, 4), 2**31, dtype=torch.int64)
    with pytest.raises(OverflowDetected, match="2\\^63"):
        matmul(big, big.T.contiguous(), "auto")


def test_matmul_float64_is_exact_at_the_largest_allowed_bound():
    # 4096 products of 2^20 x 2^20: every partial sum is an integer up to 2^52, exactly representable
    a = torch.full((1, 4096), CLAMP, dtype=torch.int64)
    b = torch.full((4096, 1), -CLAMP, dtype=torch.int64)
    b[7, 0] = CLAMP - 1
    ref = sum(int(a[0, t]) * int(b[t, 0]) for t in range(4096))
    assert matmul(a, b, "float64").item() == ref == matmul(a, b, "int64").item()


def _exp2_ref(f: int) -> int:
    acc = EXP2_COEFFS[-1]
    for c in reversed(EXP2_COEFFS[:-1]):
        acc = (acc * f + 2**15) // 2**16 + c
    return ONE + (acc * f + 2**15) // 2**16


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, ONE - 1), min_size=1, max_size=40))
def test_exp2_frac_matches_reference_and_is_close_to_2_pow_f(fs):
    got = exp2_frac(torch.tensor(fs)).tolist()
    assert got == [_exp2_ref(f) for f in fs]
    for f, g in zip(fs, got, strict=True):
        assert abs(g - 2 ** (f / ONE) * ONE) <= 16  # Taylor series to f^5: error below 2.5e-4 of ONE


def _softmax_ref(row: list[int]) -> list[int]:
    m = max(row)
    es = []
    for z in row:
        t = ((z - m) * LOG2E + 2**15) // 2**16
        n = t // ONE
        f = t - n * ONE
        es.append(_exp2_ref(f) >> min(-n, 62))
    s = sum(es)
    return [(e * ONE) // s for e in es]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(fixed, min_size=10, max_size=10), min_size=1, max_size=4))
def test_softmax_matches_reference_and_float(rows):
    z = torch.tensor(rows)
    got = softmax(z)
    assert got.tolist() == [_softmax_ref(r) for r in rows]
    approx = torch.softmax(z.double() / ONE, dim=-1) * ONE
    assert (got.double() - approx).abs().max().item() <= 0.002 * ONE


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=20))
def test_splitmix64_vectorised_equals_scalar_reference(xs):
    assert splitmix64(np.array(xs, dtype=np.uint64)).tolist() == [splitmix64_int(x) for x in xs]


def test_splitmix64_known_value():
    # first output of SplitMix64 seeded with 0 (published test vector)
    assert splitmix64_int(0) == 0xE220A8397B1DCDAF


def test_batch_indices_are_deterministic_and_in_range():
    a = batch_indices(7, 11, 32, 1419)
    assert np.array_equal(a, batch_indices(7, 11, 32, 1419))
    assert a.min() >= 0 and a.max() < 1419
    assert not np.array_equal(a, batch_indices(7, 12, 32, 1419))
    assert not np.array_equal(a, batch_indices(8, 11, 32, 1419))


def test_to_fixed_rounds_half_up_and_rejects_nan():
    assert to_fixed(np.array([0.5 / ONE, -0.5 / ONE, 1.0, 100.0])).tolist() == [1, 0, ONE, CLAMP]
    with pytest.raises(ValueError):
        to_fixed(np.array([float("nan")]))
