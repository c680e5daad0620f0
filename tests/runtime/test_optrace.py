"""The op-level trace: the same step as training, in the op order of docs/disputes.md, a slot-layout root after
every op (the first the state root, the last the next state root), chunks and slots openable."""

import pytest

from trainyard import merkle
from trainyard import runtime as rt
from trainyard.runtime import commit
from trainyard.runtime.model import step_ops
from trainyard.runtime.optrace import (
    machine_tensors,
    op_count,
    op_schedule,
    open_chunk,
    open_slot,
    trace_step,
)


def _setup(layers=(64, 16, 10), momentum=0.9):
    data = rt.digits_dataset()
    cfg = rt.TrainConfig(layers=layers, learning_rate=0.05, batch_size=8, steps=4, checkpoint_interval=2,
                         seed=3, momentum=momentum)
    return cfg, data, rt.train(cfg, data, rt.init_state(cfg, data), 2)


@pytest.mark.parametrize("layers", [(64, 10), (64, 16, 10), (64, 20, 12, 10), (64, 7, 9, 5, 10)])
def test_op_schedule_is_the_order_step_ops_runs(layers):
    cfg, data, state = _setup(layers)
    n = len(layers) - 1
    ops = op_schedule(n)
    assert len(ops) == op_count(n) == 7 * n + 1
    assert [op.index for op in ops] == list(range(1, 7 * n + 2))
    assert [op.name for op in ops] == [name for name, _ in step_ops(cfg, data, state)]


def test_op_schedule_kinds_and_layers():
    ops = op_schedule(2)
    assert [(op.kind, op.layer) for op in ops] == [
        ("batch", 0), ("linear", 0), ("relu", 0), ("linear", 1), ("softmax_xent_grad", 1),
        ("grad_weight", 1), ("grad_bias", 1), ("grad_input", 1), ("grad_weight", 0), ("grad_bias", 0),
        ("sgd_weight", 0), ("sgd_bias", 0), ("sgd_weight", 1), ("sgd_bias", 1), ("end", 0),
    ]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_first_root_is_the_state_root_and_last_the_next_state_root(momentum):
    cfg, data, state = _setup(momentum=momentum)
    records, nxt = trace_step(cfg, data, state)
    assert len(records) == op_count(2) + 1
    assert records[0].root == state.root()
    assert records[-1].root == nxt.root() == rt.train(cfg, data, state, 1).root()
    assert [r.op for r in records][:3] == ["start", "batch", "linear0"]
    assert all(r.root == commit.machine_root(r.values) and len(r.values) == commit.n_slots(2) for r in records)
    assert len({r.root for r in records}) == len(records)  # every op changes the machine state


def test_records_match_replayed_machine_tensors():
    cfg, data, state = _setup()
    records, _ = trace_step(cfg, data, state)
    for i in (0, 1, 5, 11, len(records) - 1):
        step, live = machine_tensors(cfg, data, state, i)
        assert commit.machine_values(step, live, 2) == records[i].values
    with pytest.raises(IndexError):
        machine_tensors(cfg, data, state, len(records))


def test_trace_ops_does_not_touch_the_input_state():
    cfg, data, state = _setup()
    before = state.root()
    trace_step(cfg, data, state)
    machine_tensors(cfg, data, state, 7)
    assert state.root() == before and state.step == 2


def test_chunk_and_slot_openings_verify():
    cfg, data, state = _setup()
    records, _ = trace_step(cfg, data, state)
    _, live = machine_tensors(cfg, data, state, 2)  # after linear0
    z = live["z0"]
    leaf, proof, size = open_chunk(z, 1)
    c = commit.tensor_commitment(z)
    assert merkle.verify(leaf, 2, size, proof, c)
    assert leaf[8:] == z.flatten()[64:128].numpy().astype("<i8").tobytes()
    slot = commit.slot_of("z0", 2)
    leaf, proof, size = open_slot(records[2].values, slot)
    assert leaf == merkle.indexed(slot, c) and size == commit.n_slots(2)
    assert merkle.verify(leaf, slot, size, proof, records[2].root)
    assert not merkle.verify(leaf, slot, size, proof, records[1].root)  # not under the pre-op root


def test_perturbed_state_differs_at_every_op_root():
    cfg, data, state = _setup()
    records, _ = trace_step(cfg, data, state)
    # one weight off by 2^-16 before the step: every machine root of the step differs
    bad_state = rt.State(state.step, state.layers, {k: v.clone() for k, v in state.tensors.items()})
    bad_state.tensors["l1.weight"][0, 0] += 1
    bad, _ = trace_step(cfg, data, bad_state)
    assert all(a.root != b.root for a, b in zip(records, bad, strict=True))
    assert len(records) == len(bad)
