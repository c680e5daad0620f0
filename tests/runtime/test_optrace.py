"""The op-level trace: the same step as training, a root after every op, chunks and tensors openable."""

from trainyard import merkle
from trainyard import runtime as rt
from trainyard.runtime import commit
from trainyard.runtime.optrace import open_chunk, open_tensor, trace_step


def _setup():
    data = rt.digits_dataset()
    cfg = rt.TrainConfig(layers=(64, 16, 10), learning_rate=0.05, batch_size=8, steps=4, checkpoint_interval=2,
                         seed=3, momentum=0.9)
    return cfg, data, rt.train(cfg, data, rt.init_state(cfg, data), 2)


def test_last_op_root_is_the_next_state_root():
    cfg, data, state = _setup()
    records, nxt = trace_step(cfg, data, state)
    assert records[0].root == state.root()
    assert records[-1].root == nxt.root() == rt.train(cfg, data, state, 1).root()
    assert [r.op for r in records][:3] == ["start", "batch", "linear0"]
    assert len({r.root for r in records}) == len(records)  # every op changes the machine state


def test_trace_ops_does_not_touch_the_input_state():
    cfg, data, state = _setup()
    before = state.root()
    trace_step(cfg, data, state)
    assert state.root() == before and state.step == 2


def test_chunk_and_tensor_openings_verify():
    cfg, data, state = _setup()
    w = state.tensors["l0.weight"]
    leaf, proof, size = open_chunk(w, 5)
    c = commit.tensor_commitment(w)
    assert merkle.verify(leaf, 6, size, proof, c)
    assert leaf[8:] == w.flatten()[5 * 64 : 6 * 64].numpy().astype("<i8").tobytes()
    leaf, proof, size = open_tensor(state.step, state.tensors, "l0.weight")
    assert merkle.verify(leaf, sorted(state.tensors).index("l0.weight") + 1, size, proof, state.root())
    assert leaf[-32:] == c


def test_perturbed_state_differs_at_every_op_root():
    cfg, data, state = _setup()
    records, _ = trace_step(cfg, data, state)
    # one weight off by 2^-16 before the step: every machine root of the step differs
    bad_state = rt.State(state.step, state.layers, {k: v.clone() for k, v in state.tensors.items()})
    bad_state.tensors["l1.weight"][0, 0] += 1
    bad, _ = trace_step(cfg, data, bad_state)
    assert all(a.root != b.root for a, b in zip(records, bad))
    assert len(records) == len(bad)
