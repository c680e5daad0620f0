"""The one-step proof's witnesses without a chain: slot reads and writes against the real step, the positions one
output value depends on, chunk openings, the moves of a game against a cheating solver, and the reference
recomputation of one value (what the contract does) against the torch step for every op kind (hypothesis)."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from trainyard import merkle
from trainyard.dispute import witness as wt
from trainyard.runtime import commit
from trainyard.runtime.data import Dataset
from trainyard.runtime.fixed import CLAMP, ONE, batch_indices
from trainyard.runtime.model import MOMENTUM_CLAMP, State, TrainConfig
from trainyard.runtime.optrace import machine_tensors, op_schedule
from trainyard.spec_core import data_root, data_row_proof

# (layers, batch size): L = 2 and L = 3, widths and batch sizes that are not multiples of 64
CONFIGS = [((70, 67, 5), 67), ((3, 130, 2), 1), ((65, 9, 66, 4), 70), ((5, 3, 4, 3), 2)]


def _rand(rng, bound, shape):
    return torch.from_numpy(rng.integers(-bound, bound + 1, size=shape).astype(np.int64))


def make_case(layers, batch, momentum, *, seed=1, step=7, rows=30, rng_seed=0):
    """A synthetic job: random data and a random state (weights, non-zero biases and momentum) at ``step``."""
    rng = np.random.default_rng(rng_seed)
    data = Dataset.from_arrays(rng.integers(-2 * ONE, 2 * ONE, size=(rows, layers[0])),
                               rng.integers(0, layers[-1], size=rows), np.arange(rows) % 5 == 0)
    cfg = TrainConfig(layers=tuple(layers), learning_rate=0.25, batch_size=batch, steps=1, checkpoint_interval=1,
                      seed=seed, momentum=momentum)
    tensors = {}
    for l, (w_in, w_out) in enumerate(itertools.pairwise(layers)):
        tensors[f"l{l}.weight"] = _rand(rng, ONE // 2, (w_out, w_in))
        tensors[f"l{l}.bias"] = _rand(rng, ONE // 4, (w_out,))
        if momentum:
            tensors[f"l{l}.weight.momentum"] = _rand(rng, ONE // 8, (w_out, w_in))
            tensors[f"l{l}.bias.momentum"] = _rand(rng, ONE // 8, (w_out,))
    return cfg, data, State(step, tuple(layers), tensors)


def _size(cfg, name):
    return int(np.prod(wt.slot_shape(name, cfg.layers, cfg.batch_size)))


def _value(live, name, pos):
    return int(live[name].flatten()[pos])


def _positions(size, rng):
    last_chunk = (size - 1) // 64 * 64
    return sorted({0, size - 1, size // 2, last_chunk, *rng.integers(0, size, size=3).tolist()})


# ------------------------------------------------------------------------------------------------ layout


def test_gather_positions_of_the_spec():
    layers, bsz = (3, 2, 4), 2  # in = 3, hidden 2, 4 classes, batch 2
    ops = {(op.kind, op.layer): op for op in op_schedule(2)}

    def gp(kind, layer, pos, out=0, momentum=False):
        return wt.gather_positions(ops[kind, layer], 2, layers, bsz, out, pos, momentum=momentum)

    assert gp("batch", 0, 4) == []
    assert gp("linear", 0, 3) == [[3, 4, 5], [3, 4, 5], [1]]  # (b, o) = (1, 1)
    assert gp("relu", 0, 3) == [[3]]
    assert gp("softmax_xent_grad", 1, 7) == [[4, 5, 6, 7], [1]]  # (b, c) = (1, 3)
    assert gp("grad_weight", 1, 5) == [[2, 6], [1, 3]]  # (o, i) = (2, 1): g1 column 2, a1 column 1
    assert gp("grad_weight", 0, 4) == [[1, 3], [1, 4]]  # (o, i) = (1, 1): g0 column 1, a0 column 1
    assert gp("grad_bias", 1, 3) == [[3, 7]]
    assert gp("grad_input", 1, 2) == [[4, 5, 6, 7], [0, 2, 4, 6], [2]]  # (b, i) = (1, 0)
    assert gp("sgd_weight", 1, 6) == [[6], [6]]
    assert gp("sgd_bias", 0, 1, out=1, momentum=True) == [[1], [1], [1]]
    assert gp("end", 0, 0) == []


def test_slots_each_op_reads_and_writes():
    n = 2

    def slot(name):
        return commit.slot_of(name, n)

    ops = op_schedule(n)
    by_name = {op.name: op for op in ops}
    assert wt.output_slots(by_name["batch"], n, False) == [slot("a0"), slot("y")]
    assert wt.input_slots(by_name["linear0"], n, False) == [slot("a0"), slot("l0.weight"), slot("l0.bias")]
    assert wt.input_slots(by_name["linear1"], n, False) == [slot("a1"), slot("l1.weight"), slot("l1.bias")]
    assert wt.input_slots(by_name["softmax_xent_grad"], n, False) == [slot("z1"), slot("y")]
    assert wt.output_slots(by_name["grad_input1"], n, False) == [slot("g0")]
    assert wt.input_slots(by_name["grad_input1"], n, False) == [slot("g1"), slot("l1.weight"), slot("z0")]
    sgd = by_name["sgd_l1.bias"]
    assert wt.output_slots(sgd, n, True) == [slot("l1.bias"), slot("l1.bias.momentum")]
    assert wt.output_slots(sgd, n, False) == [slot("l1.bias")]
    assert wt.input_slots(sgd, n, True) == [slot("l1.bias"), slot("l1.bias.grad"), slot("l1.bias.momentum")]
    assert wt.cleared_slots(sgd, n) == [slot("l1.bias.grad")]
    assert wt.cleared_slots(by_name["end"], n) == list(range(slot("a0"), 21))
    assert wt.output_slots(by_name["end"], n, True) == [] and wt.input_slots(by_name["end"], n, True) == []


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("layers,batch", CONFIGS)
def test_every_real_op_is_a_valid_transition_and_the_reference_matches(layers, batch, momentum):
    cfg, data, state = make_case(layers, batch, momentum)
    n, mu, rng = len(layers) - 1, bool(momentum), np.random.default_rng(1)
    states = [machine_tensors(cfg, data, state, i) for i in range(7 * n + 2)]
    values = [commit.machine_values(step, live, n) for step, live in states]
    for op in op_schedule(n):
        (prev_step, prev), (_, nxt) = states[op.index - 1], states[op.index]
        _, _, hashes = wt.reveal_op_args(values[op.index - 1], values[op.index], nxt, op, n, mu)
        wt.check_transition(values[op.index - 1], values[op.index], hashes, op, layers, batch, mu)
        for out, name in enumerate(wt.output_names(op, n, mu)):
            assert wt.output_slots(op, n, mu)[out] == commit.slot_of(name, n)
            assert tuple(nxt[name].shape) == wt.slot_shape(name, layers, batch)
            for pos in _positions(_size(cfg, name), rng):
                got = wt.expected_element(cfg, data, prev_step, prev, op, out, pos)
                assert got == _value(nxt, name, pos), (op.name, out, pos)


# ------------------------------------------------------------------------------------------------ reference vs step


@st.composite
def cases(draw):
    n = draw(st.integers(1, 3))
    layers = (*tuple(draw(st.integers(1, 70)) for _ in range(n)), draw(st.integers(2, 9)))
    momentum = draw(st.sampled_from([0.0, 0.9]))
    cfg, data, state = make_case(layers, draw(st.integers(1, 70)), momentum, seed=draw(st.integers(0, 2**63 - 1)),
                                 step=draw(st.integers(0, 2**32)), rng_seed=draw(st.integers(0, 2**32)))
    op = draw(st.sampled_from(op_schedule(n)[:-1]))  # every op but end (it computes nothing)
    names = wt.output_names(op, n, bool(momentum))
    out = draw(st.integers(0, len(names) - 1))
    pos = draw(st.integers(0, _size(cfg, names[out]) - 1))
    return cfg, data, state, op, out, pos


def _perturbed(cfg, data, step, live, op, out, pos, value):
    """(data, live) with one input the value depends on changed, and the value it must then have."""
    live = {k: v.clone() for k, v in live.items()}
    l, kind = op.layer, op.kind
    if kind == "batch":
        return _perturbed_batch(cfg, data, step, out, pos, value), live, value + 1
    if kind in ("linear", "grad_bias", "sgd_weight", "sgd_bias"):  # one input adds to the value before its clamp
        assume(abs(value) < (MOMENTUM_CLAMP if out == 1 else CLAMP))
        name, idx = _additive_input(cfg, op, out, pos)
        live[name].view(-1)[idx] += 1
        return data, live, value + 1
    if kind == "relu":
        new = abs(_value(live, f"z{l}", pos)) + 1
        live[f"z{l}"].view(-1)[pos] = new
        return data, live, new
    if kind == "softmax_xent_grad":
        b, c = divmod(pos, cfg.layers[-1])
        was = int(live["y"][b]) == c
        live["y"][b] = (c + 1) % cfg.layers[-1] if was else c
        return data, live, value + ONE if was else value - ONE
    return data, live, (_perturbed_grad_weight if kind == "grad_weight" else _perturbed_grad_input)(cfg, live, op,
                                                                                                   pos, value)


def _additive_input(cfg, op, out, pos):
    """(tensor, flat position) of an input whose + 1 adds 1 to output ``pos``: linear's bias, row 0 of g for
    grad_bias, the parameter for sgd's parameter, the gradient for its momentum."""
    if op.kind == "linear":
        return f"l{op.layer}.bias", pos % cfg.layers[op.layer + 1]
    if op.kind == "grad_bias":
        return f"g{op.layer}", pos
    return wt.input_names(op, len(cfg.layers) - 1, False)[out], pos


def _perturbed_batch(cfg, data, step, out, pos, value):
    b, f = divmod(pos, cfg.layers[0]) if out == 0 else (pos, 0)
    row = int(data.train_index[int(batch_indices(cfg.seed, step, cfg.batch_size, len(data.train_index))[b])])
    x, y = data.x.clone(), data.y.clone()
    if out == 0:
        x[row, f] += 1
    else:
        y[row] += 1
    return Dataset(x, y, data.test)


def _perturbed_grad_weight(cfg, live, op, pos, value):
    o, i = divmod(pos, cfg.layers[op.layer])
    g, a = live[f"g{op.layer}"], live[f"a{op.layer}"]
    assume(abs(value) < CLAMP)
    for b in range(cfg.batch_size):
        if g[b, o] != 0:  # dW[o, i] = Σ g[b, o]·a[b, i] / ONE: a[b, i] + ONE adds g[b, o]
            a[b, i] += ONE
            return max(-CLAMP, min(CLAMP, value + int(g[b, o])))
        if a[b, i] != 0:
            g[b, o] += ONE
            return max(-CLAMP, min(CLAMP, value + int(a[b, i])))
    a[0, i], g[0, o] = ONE, ONE  # both columns were zero
    return ONE


def _perturbed_grad_input(cfg, live, op, pos, value):
    b, i = divmod(pos, cfg.layers[op.layer])
    w, g, z = live[f"l{op.layer}.weight"], live[f"g{op.layer}"], live[f"z{op.layer - 1}"]
    nonzero = torch.nonzero(w[:, i]).flatten().tolist()
    assume(nonzero)
    o = nonzero[0]
    if z[b, i] > 0:  # g_{l-1}[b, i] = Σ g[b, o]·W[o, i] / ONE: g[b, o] + ONE adds W[o, i]
        assume(abs(value) < CLAMP)
        g[b, o] += ONE
        return max(-CLAMP, min(CLAMP, value + int(w[o, i])))
    z[b, i] = 1  # unmask it, with a g row that picks W[o, i]
    g[b] = 0
    g[b, o] = ONE
    return int(w[o, i])


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_reference_equals_the_step_and_follows_its_inputs(case):
    cfg, data, state, op, out, pos = case
    n = len(cfg.layers) - 1
    step, prev = machine_tensors(cfg, data, state, op.index - 1)
    _, nxt = machine_tensors(cfg, data, state, op.index)
    value = _value(nxt, wt.output_names(op, n, bool(cfg.momentum_fixed))[out], pos)
    assert wt.expected_element(cfg, data, step, prev, op, out, pos) == value
    data2, prev2, predicted = _perturbed(cfg, data, step, prev, op, out, pos, value)
    assert predicted != value
    assert wt.expected_element(cfg, data2, step, prev2, op, out, pos) == predicted


# ------------------------------------------------------------------------------------------------ openings and moves


def test_chunk_openings_cover_the_positions_once_and_verify():
    t = torch.arange(-100, 200, dtype=torch.int64).reshape(3, 100)
    positions = [299, 5, 130, 64, 70, 63]
    indices, datas, proofs = wt.chunk_openings(t, positions)
    assert indices == [0, 1, 2, 4]
    c, count = commit.tensor_commitment(t), len(commit.tensor_leaves(t))
    flat = t.flatten().tolist()
    for k, d, proof in zip(indices, datas, proofs, strict=True):
        assert d == wt.chunk_data(t, k) and wt.chunk_values(d) == flat[64 * k : 64 * k + 64]
        assert merkle.verify(merkle.indexed(k + 1, d), k + 1, count, proof, c)
    assert len(datas[-1]) == 8 * (300 - 256)  # the last chunk is shorter


def test_first_difference_and_differing_element():
    a = [b"h", b"0", b"1", b"2"]
    assert wt.first_difference(a, [b"h", b"0", b"x", b"2"]) == 1
    assert wt.find_dispute([a, a], [a, [b"h", b"0", b"1", b"y"]]) == (1, 2)
    assert wt.differing_element([1, 2, 3], [1, 2, 4]) == 2
    for bad in (lambda: wt.first_difference(a, a), lambda: wt.find_dispute([a], [a]),
                lambda: wt.differing_element([1], [1]), lambda: wt.first_difference(a, a[:3])):
        with pytest.raises(ValueError):
            bad()


@pytest.mark.parametrize("op_name,out,pos", [
    ("batch", 0, 301), ("batch", 1, 66), ("linear1", 0, 200), ("relu0", 0, 4000), ("softmax_xent_grad", 0, 333),
    ("grad_weight0", 0, 4620), ("grad_bias1", 0, 4), ("grad_input1", 0, 4422), ("sgd_l0.weight", 1, 4689),
    ("sgd_l1.bias", 0, 3),
])
def test_a_cheating_solver_loses_the_one_step_game(op_name, out, pos):
    cfg, data, state = make_case((70, 67, 5), 67, 0.9)
    n, layers, bsz = 2, cfg.layers, cfg.batch_size
    op = next(o for o in op_schedule(n) if o.name == op_name)
    name, slot = wt.output_names(op, n, True)[out], wt.output_slots(op, n, True)[out]
    prev_step, prev = machine_tensors(cfg, data, state, op.index - 1)
    next_step, honest = machine_tensors(cfg, data, state, op.index)
    cheat = {**honest, name: honest[name].clone()}
    cheat[name].view(-1)[pos] += 1
    prev_values = commit.machine_values(prev_step, prev, n)
    # solver: revealOp (well-formed: the contract accepts it)
    their_next = commit.machine_values(next_step, cheat, n)
    _, _, theirs = wt.reveal_op_args(prev_values, their_next, cheat, op, n, True)
    wt.check_transition(prev_values, their_next, theirs, op, layers, bsz, True)
    # challenger: nameChunk
    mine = wt.reveal_op_args(prev_values, commit.machine_values(next_step, honest, n), honest, op, n, True)[2]
    k, chunk, proof = wt.name_chunk_args(theirs, *wt.find_dispute(mine, theirs))
    assert (k, chunk) == (out, pos // 64)
    assert merkle.root_from_proof(theirs[k][chunk + 1], chunk + 1, len(theirs[k]), proof) == their_next[slot]
    # solver: revealChunk; challenger: proveElement
    revealed = wt.chunk_data(cheat[name], chunk)
    assert merkle.leaf_hash(merkle.indexed(chunk + 1, revealed)) == theirs[k][chunk + 1]
    element = wt.differing_element(wt.chunk_values(wt.chunk_data(honest[name], chunk)), wt.chunk_values(revealed))
    assert chunk * 64 + element == pos
    args = wt.prove_element_args(cfg, data, prev_step, prev, op, k, chunk, element)
    assert args["query"] == (prev_step, op.index, out, pos) and args["prev_values"] == prev_values
    value = wt.element_from_args(cfg, data_root(data), len(data.train_index), op, args)
    assert value == _value(honest, name, pos) != wt.chunk_values(revealed)[element]


def _args(op_name, out=0, pos=5):
    cfg, data, state = make_case((70, 67, 5), 67, 0.9)
    op = next(o for o in op_schedule(2) if o.name == op_name)
    step, prev = machine_tensors(cfg, data, state, op.index - 1)
    args = wt.prove_element_args(cfg, data, step, prev, op, out, pos // 64, pos % 64)
    return cfg, data, op, args


def _check(cfg, data, op, args):
    return wt.element_from_args(cfg, data_root(data), len(data.train_index), op, args)


def test_bad_openings_are_rejected():
    cfg, data, op, args = _args("grad_input1", pos=300)
    _check(cfg, data, op, args)
    indices, datas, proofs = args["inputs"][1]
    tampered = [bytes([datas[0][0] ^ 1]) + datas[0][1:], *datas[1:]]
    for inputs in (
        [args["inputs"][0], (indices, tampered, proofs), args["inputs"][2]],  # a changed value
        [args["inputs"][0], (indices[1:], datas[1:], proofs[1:]), args["inputs"][2]],  # a needed chunk missing
        [args["inputs"][0], (indices[::-1], datas[::-1], proofs[::-1]), args["inputs"][2]],  # out of order
        args["inputs"][:2],  # an input missing
    ):
        with pytest.raises(ValueError):
            _check(cfg, data, op, {**args, "inputs": inputs})
    with pytest.raises(ValueError):  # opened against another state
        _check(cfg, data, op, {**args, "prev_values": [bytes(32)] * 21})
    with pytest.raises(ValueError):  # no such output value
        _check(cfg, data, op, {**args, "query": (*args["query"][:3], 67 * 67)})


def test_a_wrong_data_row_is_rejected():
    cfg, data, op, args = _args("batch", out=1, pos=3)
    index, label, features, proof = args["row"]
    assert _check(cfg, data, op, args) == label
    other = (index + 1) % len(data.train_index)
    for row in ((index, label + 1, features, proof), (other, *data_row_proof(data, other)),
                (index, label, features[:-8], proof)):
        with pytest.raises(ValueError):
            _check(cfg, data, op, {**args, "row": row})


def test_bad_transitions_are_rejected():
    cfg, data, state = make_case((5, 3, 4, 3), 2, 0.9)
    n, layers, bsz = 3, cfg.layers, cfg.batch_size
    ops = {o.name: o for o in op_schedule(n)}

    def reveal(op):
        ps, prev = machine_tensors(cfg, data, state, op.index - 1)
        ns, nxt = machine_tensors(cfg, data, state, op.index)
        before, after = commit.machine_values(ps, prev, n), commit.machine_values(ns, nxt, n)
        return wt.reveal_op_args(before, after, nxt, op, n, True)

    op = ops["sgd_l1.weight"]
    prev, nxt, hashes = reveal(op)
    wt.check_transition(prev, nxt, hashes, op, layers, bsz, True)
    grad, step = commit.slot_of("l1.weight.grad", n), int.from_bytes(prev[0], "big")

    def changed(slot, value):
        return [value if s == slot else v for s, v in enumerate(nxt)]

    for bad_next, bad_hashes in (
        (changed(grad, prev[grad]), hashes),  # the consumed gradient not emptied
        (changed(commit.slot_of("l0.weight", n), bytes(32)), hashes),  # a slot the op does not write
        (changed(0, (step + 1).to_bytes(32, "big")), hashes),  # the step moves only at the end
        (nxt, hashes[:1]),  # the momentum's list missing
        (nxt, [hashes[0][:-1], hashes[1]]),  # a chunk missing
        (nxt, [hashes[1], hashes[0]]),  # lists swapped (each root is the other slot's)
    ):
        with pytest.raises(ValueError):
            wt.check_transition(prev, bad_next, bad_hashes, op, layers, bsz, True)
    end = ops["end"]
    prev, nxt, hashes = reveal(end)
    assert hashes == [] and int.from_bytes(nxt[0], "big") == step + 1
    wt.check_transition(prev, nxt, hashes, end, layers, bsz, True)
    for bad_next in ([prev[0], *nxt[1:]], [*nxt[:-1], prev[commit.slot_of("a0", n)]]):
        with pytest.raises(ValueError):
            wt.check_transition(prev, bad_next, [], end, layers, bsz, True)


def test_grad_input_is_masked_where_z_is_not_positive():
    cfg, data, state = make_case((70, 67, 5), 67, 0.0)
    op = next(o for o in op_schedule(2) if o.kind == "grad_input")
    step, prev = machine_tensors(cfg, data, state, op.index - 1)
    pos = 5 * 67 + 3
    unmasked = {**prev, "z0": prev["z0"].clone()}
    unmasked["z0"][5, 3] = 1
    value = wt.expected_element(cfg, data, step, unmasked, op, 0, pos)
    assert value != 0
    for z in (0, -1):
        unmasked["z0"][5, 3] = z
        assert wt.expected_element(cfg, data, step, unmasked, op, 0, pos) == 0
