"""Exact training: the same bits whatever the threads, matmul path or resume point; it learns."""

import pytest
import torch

from trainyard import runtime as rt
from trainyard.runtime import commit

DEVICE = "cpu"  # a parameter: the same checks run on a GPU machine with DEVICE = "cuda"


@pytest.fixture(scope="module")
def digits():
    return rt.digits_dataset()


@pytest.fixture(scope="module")
def cfg():
    return rt.TrainConfig(layers=(64, 32, 10), learning_rate=0.05, batch_size=32, steps=120, checkpoint_interval=40,
                          seed=11, momentum=0.9)


def _trace(cfg, data, **kw):
    state = rt.init_state(cfg, data, device=kw.get("device", DEVICE))
    leaves = []
    for w in range(cfg.steps // cfg.checkpoint_interval):
        digests: list[bytes] = []  # the interior digests (here of every step) must be as reproducible as the roots
        state = rt.train(cfg, data, state, cfg.checkpoint_interval,
                         observe=lambda s, digests=digests: digests.append(rt.state_digest(s.step, s.tensors)), **kw)
        leaves.append(rt.trace_leaf(w, state.root(), f"cid-{w}", rt.interior_root(digests)))
    return rt.trace_root(leaves), state


def test_same_trace_root_with_1_and_2_threads(cfg, digits):
    r1, _ = _trace(cfg, digits, threads=1, device=DEVICE)
    r2, _ = _trace(cfg, digits, threads=2, device=DEVICE)
    assert r1 == r2


def test_same_trace_root_with_float64_and_int64_matmul(cfg, digits):
    rf, _ = _trace(cfg, digits, matmul="float64", device=DEVICE)
    ri, _ = _trace(cfg, digits, matmul="int64", device=DEVICE)
    assert rf == ri


def test_resume_from_every_checkpoint_reproduces_later_roots(cfg, digits):
    state = rt.init_state(cfg, digits)
    roots, blobs = [], []
    for _ in range(3):
        state = rt.train(cfg, digits, state, cfg.checkpoint_interval)
        roots.append(state.root())
        blobs.append(rt.save_checkpoint(state))
    for k, blob in enumerate(blobs):
        resumed = rt.load_checkpoint(blob)
        assert resumed.root() == roots[k]
        for later in roots[k + 1 :]:
            resumed = rt.train(cfg, digits, resumed, cfg.checkpoint_interval)
            assert resumed.root() == later


def test_different_seed_or_lr_changes_the_root(cfg, digits):
    base = rt.train(cfg, digits, rt.init_state(cfg, digits), 5).root()
    other_seed = rt.TrainConfig(**{**cfg.__dict__, "seed": 12})
    other_lr = rt.TrainConfig(**{**cfg.__dict__, "learning_rate": 0.06})
    assert rt.train(other_seed, digits, rt.init_state(other_seed, digits), 5).root() != base
    assert rt.train(other_lr, digits, rt.init_state(cfg, digits), 5).root() != base


def test_state_root_changes_with_one_weight(cfg, digits):
    state = rt.init_state(cfg, digits)
    before = state.root()
    state.tensors["l1.weight"][3, 4] += 1
    assert state.root() != before


def test_checkpoint_roundtrip_and_corruption(cfg, digits):
    state = rt.train(cfg, digits, rt.init_state(cfg, digits), 3)
    blob = rt.save_checkpoint(state)
    back = rt.load_checkpoint(blob)
    assert back.step == 3 and back.root() == state.root()
    with pytest.raises(ValueError):
        rt.load_checkpoint(blob[:-8])
    with pytest.raises(ValueError):
        rt.load_checkpoint(b"nope" + blob)


def test_tensor_commitment_chunks_and_header():
    t = torch.arange(130, dtype=torch.int64)
    leaves = commit.tensor_leaves(t)
    assert len(leaves) == 1 + 3  # header + ceil(130 / 64) chunks
    assert commit.tensor_commitment(t) != commit.tensor_commitment(t.reshape(10, 13))  # shape is committed


def test_dataset_npz_roundtrip_is_byte_stable(digits):
    blob = digits.to_npz_bytes()
    assert blob == digits.to_npz_bytes()
    back = rt.Dataset.from_npz_bytes(blob)
    assert torch.equal(back.x, digits.x) and torch.equal(back.y, digits.y) and torch.equal(back.test, digits.test)


def test_validate_config_rejects_unguaranteed_bounds(digits):
    ok = {
        "layers": (64, 32, 10),
        "learning_rate": 0.05,
        "batch_size": 32,
        "steps": 100,
        "checkpoint_interval": 50,
        "seed": 1,
    }
    rt.validate_config(rt.TrainConfig(**ok), digits)
    for bad, msg in [
        ({"layers": (64, 5000, 10)}, "widths"),
        ({"batch_size": 10_000}, "batch_size"),
        ({"learning_rate": 1e-6}, "learning_rate"),
        ({"momentum": 1.0}, "momentum"),
        ({"layers": (63, 32, 10)}, "features"),
        ({"layers": (64, 32, 5)}, "classes"),
    ]:
        with pytest.raises(rt.RuntimeConfigError, match=msg):
            rt.validate_config(rt.TrainConfig(**{**ok, **bad}), digits)


def test_export_loads_into_torch_sequential(cfg, digits):
    state = rt.train(cfg, digits, rt.init_state(cfg, digits), 50)
    model = rt.float_module(cfg.layers)
    model.load_state_dict(rt.export_float_state_dict(state))
    idx = digits.test_index
    with torch.no_grad():
        pred = model(digits.x[idx].double().div(65536).float()).argmax(1)
    exact = rt.evaluate(cfg, digits, state)
    assert abs(float((pred == digits.y[idx]).double().mean()) - exact) < 0.02


def test_digits_accuracy_close_to_float32(digits):
    cfg = rt.TrainConfig(
        layers=(64, 64, 10),
        learning_rate=0.05,
        batch_size=32,
        steps=1000,
        checkpoint_interval=250,
        seed=7,
        momentum=0.9,
    )
    exact = rt.evaluate(cfg, digits, rt.train(cfg, digits, rt.init_state(cfg, digits), cfg.steps))
    f32 = rt.train_float32(cfg, digits)
    print(f"digits_accuracy_exact: {exact:.4f}\ndigits_accuracy_float32: {f32:.4f}")
    assert exact >= 0.95
    assert abs(exact - f32) <= 0.02
