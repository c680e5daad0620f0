"""A whole training step against a pure-Python big-integer reference of the rules in docs/runtime.md (hypothesis).

The reference computes in unbounded Python ints, so it also shows that the torch step neither wraps nor loses a bit
on either matmul path, with values anywhere in the clamp range (clamps, masks and momentum included)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trainyard import runtime as rt
from trainyard.runtime.fixed import CLAMP, EXP2_COEFFS, LOG2E, ONE, OverflowDetected, batch_indices, matmul
from trainyard.runtime.model import MOMENTUM_CLAMP, step_ops


def rs(x: int) -> int:
    return (x + 2**15) >> 16


def cl(x: int, bound: int = CLAMP) -> int:
    return max(-bound, min(bound, x))


def exp2_ref(f: int) -> int:
    acc = EXP2_COEFFS[-1]
    for c in reversed(EXP2_COEFFS[:-1]):
        acc = rs(acc * f) + c
    return ONE + rs(acc * f)


def softmax_ref(row: list[int]) -> list[int]:
    m = max(row)
    es = []
    for z in row:
        t = rs((z - m) * LOG2E)
        n = t >> 16
        es.append(exp2_ref(t - (n << 16)) >> min(-n, 62))
    return [(e << 16) // sum(es) for e in es]


def step_ref(cfg, tensors, x, y):
    """One step in Python ints: returns the new {name: nested list} and the intermediates."""
    T = {k: v.tolist() for k, v in tensors.items()}
    n = len(cfg.layers) - 1
    B = len(x)
    a, z = [x], []
    for l in range(n):
        W, b = T[f"l{l}.weight"], T[f"l{l}.bias"]
        z.append(
            [
                [cl(rs(sum(ai * wj for ai, wj in zip(row, W[o], strict=True))) + b[o]) for o in range(len(W))]
                for row in a[l]
            ]
        )
        if l < n - 1:
            a.append([[max(v, 0) for v in row] for row in z[l]])
    g = [softmax_ref(row) for row in z[-1]]
    for i, c in enumerate(y):
        g[i][c] -= ONE
    grads = {}
    for l in range(n - 1, -1, -1):
        W = T[f"l{l}.weight"]
        out, inp = len(W), len(W[0])
        grads[f"l{l}.weight"] = [
            [cl(rs(sum(g[i][o] * a[l][i][j] for i in range(B)))) for j in range(inp)] for o in range(out)
        ]
        grads[f"l{l}.bias"] = [cl(sum(g[i][o] for i in range(B))) for o in range(out)]
        if l > 0:
            g = [
                [cl(rs(sum(g[i][o] * W[o][j] for o in range(out)))) if z[l - 1][i][j] > 0 else 0 for j in range(inp)]
                for i in range(B)
            ]
    mu, lr = cfg.momentum_fixed, cfg.lr_fixed

    def upd(p, gr, m):
        v = cl(rs(mu * m) + gr, MOMENTUM_CLAMP) if mu else gr
        return cl(p - (lr * v + (B * ONE) // 2) // (B * ONE)), v

    new = dict(T)
    for name, gr in grads.items():
        p = T[name]
        m = T.get(name + ".momentum")
        if isinstance(p[0], list):
            pairs = [[upd(p[o][j], gr[o][j], m[o][j] if m else 0) for j in range(len(p[0]))] for o in range(len(p))]
            new[name] = [[u[0] for u in row] for row in pairs]
            if mu:
                new[name + ".momentum"] = [[u[1] for u in row] for row in pairs]
        else:
            pairs = [upd(p[o], gr[o], m[o] if m else 0) for o in range(len(p))]
            new[name] = [u[0] for u in pairs]
            if mu:
                new[name + ".momentum"] = [u[1] for u in pairs]
    return new, z


@st.composite
def setups(draw):
    d, h, c = draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(2, 4))
    layers = (d, h, c)
    B = draw(st.integers(1, 5))
    mom = draw(st.sampled_from([0.0, 0.5, 0.9]))
    lr = draw(st.sampled_from([0.01, 0.05, 0.5, 4.0]))
    cfg = rt.TrainConfig(
        layers=layers,
        learning_rate=lr,
        batch_size=B,
        steps=1,
        checkpoint_interval=1,
        seed=draw(st.integers(0, 2**64 - 1)),
        momentum=mom,
    )
    # values anywhere in the clamp range (most draws saturate somewhere), or small ones (no saturation)
    big = draw(st.booleans())
    bound = CLAMP if big else ONE
    val = st.integers(-bound, bound)
    rows = 6
    x = np.array(draw(st.lists(st.lists(val, min_size=d, max_size=d), min_size=rows, max_size=rows)), dtype=np.int64)
    y = np.array(draw(st.lists(st.integers(0, c - 1), min_size=rows, max_size=rows)), dtype=np.int64)
    y[0], y[1] = 0, c - 1
    test = np.zeros(rows, dtype=bool)
    test[-1] = True
    data = rt.Dataset.from_arrays(x, y, test)
    state = rt.init_state(cfg, data)
    for name, t in state.tensors.items():
        vals = draw(
            st.lists(
                val if "momentum" not in name else st.integers(-MOMENTUM_CLAMP, MOMENTUM_CLAMP),
                min_size=t.numel(),
                max_size=t.numel(),
            )
        )
        state.tensors[name] = torch.tensor(vals, dtype=torch.int64).reshape(t.shape)
    return cfg, data, state


@pytest.mark.parametrize("path", ["float64", "int64"])
@settings(max_examples=60, deadline=None)
@given(setups())
def test_step_matches_big_int_reference(path, setup):
    cfg, data, state = setup
    train = data.train_index.numpy()
    rows = train[batch_indices(cfg.seed, state.step, cfg.batch_size, len(train))]
    x = data.x.numpy()[rows].tolist()
    y = data.y.numpy()[rows].tolist()
    want, z_ref = step_ref(cfg, state.tensors, x, y)
    seen = {}
    for op, live in step_ops(cfg, data, state, path):
        if op.startswith("linear"):
            seen[op] = live[f"z{op[-1]}"].tolist()
    assert [seen[f"linear{l}"] for l in range(len(cfg.layers) - 1)] == z_ref
    assert state.step == 1
    assert {k: v.tolist() for k, v in state.tensors.items()} == want


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 2**40), st.integers(1, 2**40), st.integers(1, 64))
def test_matmul_overflow_is_raised_never_silent(amax, bmax, k):
    a = torch.full((1, k), amax, dtype=torch.int64)
    b = torch.full((k, 1), bmax, dtype=torch.int64)
    bound = amax * bmax * k
    for path in ("float64", "int64", "auto"):
        limit = 2**53 if path == "float64" else 2**63
        if bound >= limit:
            with pytest.raises(OverflowDetected):
                matmul(a, b, path)
        else:
            assert matmul(a, b, path).item() == amax * bmax * k


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-(2**46), 2**46), min_size=1, max_size=30), st.integers(0, 24), st.booleans())
def test_div_round_power_of_two_shortcut_equals_the_rule(xs, k, odd):
    from trainyard.runtime.fixed import div_round

    d = (1 << k) + (3 if odd else 0)
    assert div_round(torch.tensor(xs), d).tolist() == [(x + d // 2) // d for x in xs]
