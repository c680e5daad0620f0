"""The Solidity twins of the runtime's fixed-point rules give the same integers as the torch ops (hypothesis,
200 cases each, on Anvil)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trainyard.runtime import fixed

CASES = settings(max_examples=200, deadline=None, database=None)
wide = st.integers(min_value=-(2**62), max_value=2**62)
fx = st.integers(min_value=-fixed.CLAMP, max_value=fixed.CLAMP)


@pytest.fixture(scope="module")
def ops(FixedOpsHarness, accounts):
    return FixedOpsHarness.deploy({"from": accounts[0]})


@CASES
@given(st.lists(st.integers(-(2**46), 2**46), min_size=1, max_size=8), st.integers(1, 20))
def test_rshift_round(ops, xs, k):
    assert list(ops.rshiftRound(xs, k)) == fixed.rshift_round(torch.tensor(xs), k).tolist()


@CASES
@given(st.lists(st.integers(-(2**46), 2**46), min_size=1, max_size=8), st.integers(1, 2**22))
def test_div_round(ops, xs, d):
    assert list(ops.divRound(xs, d)) == fixed.div_round(torch.tensor(xs), d).tolist()


@CASES
@given(st.lists(st.integers(0, fixed.ONE - 1), min_size=1, max_size=8))
def test_exp2_frac(ops, fs):
    assert list(ops.exp2Frac(fs)) == fixed.exp2_frac(torch.tensor(fs)).tolist()


@CASES
@given(st.lists(fx, min_size=2, max_size=10))
def test_softmax_row(ops, z):
    assert list(ops.softmax(z)) == fixed.softmax(torch.tensor([z])).tolist()[0]


@CASES
@given(st.integers(1, 12).flatmap(lambda k: st.tuples(st.lists(fx, min_size=k, max_size=k),
                                                      st.lists(fx, min_size=k, max_size=k))), fx)
def test_linear_output(ops, aw, bias):
    a, w = aw
    expected = fixed.clamp(fixed.rshift_round(fixed.matmul(torch.tensor([a]), torch.tensor([w]).T)) + bias)
    assert ops.linearOut(a, w, bias) == expected.item()


@CASES
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=8))
def test_splitmix64(ops, xs):
    assert list(ops.splitmix64(xs)) == fixed.splitmix64(np.array(xs, dtype=np.uint64)).tolist()


@CASES
@given(st.integers(0, 2**63 - 1), st.integers(0, 2**20), st.integers(1, 16), st.integers(1, 5000))
def test_batch_indices(ops, seed, step, batch, n):
    assert list(ops.batch(seed, step, batch, n)) == fixed.batch_indices(seed, step, batch, n).tolist()
