"""Each op of a real training step, recomputed one output at a time by its Solidity twin, on Anvil: the same
integers as the torch step (200 positions per op, drawn by hypothesis)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainyard import runtime as rt
from trainyard.runtime.model import step_ops

CASES = settings(max_examples=200, deadline=None, database=None)


@pytest.fixture(scope="module")
def ops(FixedOpsHarness, accounts):
    return FixedOpsHarness.deploy({"from": accounts[0]})


@pytest.fixture(scope="module")
def snaps():
    """(cfg, {op name: live tensors after it}, tensors before the step) for one step of a small MLP."""
    data = rt.digits_dataset()
    cfg = rt.TrainConfig(layers=(64, 16, 10), learning_rate=0.05, batch_size=8, steps=4, checkpoint_interval=2,
                         seed=5, momentum=0.9)
    state = rt.train(cfg, data, rt.init_state(cfg, data), 3)
    before = {k: v.clone() for k, v in state.tensors.items()}
    after = {}
    for op, live in step_ops(cfg, data, state):
        after[op] = {k: v.clone() for k, v in live.items()}
    return cfg, after, before


def _ints(t):
    return [int(v) for v in t.flatten().tolist()]


@CASES
@given(st.data())
def test_linear_outputs(ops, snaps, data):
    _, after, _ = snaps
    live = after["linear1"]
    b = data.draw(st.integers(0, live["a1"].shape[0] - 1))
    o = data.draw(st.integers(0, live["l1.weight"].shape[0] - 1))
    got = ops.linearOut(_ints(live["a1"][b]), _ints(live["l1.weight"][o]), int(live["l1.bias"][o]))
    assert got == int(live["z1"][b, o])


@CASES
@given(st.data())
def test_softmax_xent_grad_rows(ops, snaps, data):
    _, after, _ = snaps
    live = after["softmax_xent_grad"]
    b = data.draw(st.integers(0, live["z1"].shape[0] - 1))
    p = list(ops.softmax(_ints(live["z1"][b])))
    p[int(live["y"][b])] -= 65536
    assert p == _ints(live["g1"][b])


@CASES
@given(st.data())
def test_grad_weight_and_bias_outputs(ops, snaps, data):
    _, after, _ = snaps
    live = after["grad_bias0"]
    o = data.draw(st.integers(0, live["g0"].shape[1] - 1))
    i = data.draw(st.integers(0, live["a0"].shape[1] - 1))
    assert ops.gradWeightOut(_ints(live["g0"][:, o]), _ints(live["a0"][:, i])) == int(live["l0.weight.grad"][o, i])
    assert ops.gradBiasOut(_ints(live["g0"][:, o])) == int(live["l0.bias.grad"][o])


@CASES
@given(st.data())
def test_grad_input_outputs(ops, snaps, data):
    _, after, _ = snaps
    live = after["grad_input1"]
    b = data.draw(st.integers(0, live["g1"].shape[0] - 1))
    i = data.draw(st.integers(0, live["l1.weight"].shape[1] - 1))
    got = ops.gradInputOut(_ints(live["g1"][b]), _ints(live["l1.weight"][:, i]), int(live["z0"][b, i]))
    assert got == int(live["g0"][b, i])


@CASES
@given(st.data())
def test_sgd_outputs(ops, snaps, data):
    cfg, after, before = snaps
    grads = after["grad_bias0"]  # every gradient exists here, before any update
    done = after["sgd_l0.weight"]
    o = data.draw(st.integers(0, before["l0.weight"].shape[0] - 1))
    i = data.draw(st.integers(0, before["l0.weight"].shape[1] - 1))
    w, v = ops.sgdOut(int(before["l0.weight"][o, i]), int(grads["l0.weight.grad"][o, i]),
                      int(before["l0.weight.momentum"][o, i]), cfg.lr_fixed, cfg.momentum_fixed, cfg.batch_size)
    assert (w, v) == (int(done["l0.weight"][o, i]), int(done["l0.weight.momentum"][o, i]))
