"""The training program (trainyard.program): the MLP's program run by the interpreter is bit-exact with
runtime.model's step (every tensor after every op-trace op, over several steps), encodings round-trip and are
canonical, the root covers every field, and validation refuses each kind of malformed program with one line."""

import dataclasses
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trainyard import merkle
from trainyard import runtime as rt
from trainyard.errors import ProgramError, SpecError
from trainyard.program import (
    ENTRY_SIZE,
    Header,
    Op,
    OpKind,
    Program,
    Role,
    Slot,
    make_program,
    measure,
    mlp_program,
    optrace_groups,
    program_for_config,
    program_root,
    run_ops,
    run_step,
    slots_from_tensors,
    tensors_from_slots,
    validate,
)
from trainyard.program.format import (
    decode_header,
    decode_op,
    decode_slot,
    encode_header,
    encode_op,
    encode_slot,
)
from trainyard.runtime.fixed import CLAMP, MAX_WIDTH, ONE
from trainyard.runtime.model import MOMENTUM_CLAMP, sample_batch, step_ops
from trainyard.runtime.optrace import op_count, op_schedule


@pytest.fixture(scope="module")
def digits():
    return rt.digits_dataset()


def _config(layers, batch_size, momentum, lr=0.05, seed=3):
    return rt.TrainConfig(layers=layers, learning_rate=lr, batch_size=batch_size, steps=4, checkpoint_interval=1,
                          seed=seed, momentum=momentum)


def _clone(tensors):
    return {k: v.clone() for k, v in tensors.items()}


def _assert_same(live, program, slots, where):
    """Every tensor of step_ops' live dict is in the slot of its name, bit for bit."""
    got = tensors_from_slots(program, slots)
    missing = set(live) - set(got)
    assert not missing, f"{where}: no slot value for {sorted(missing)}"
    for name, t in live.items():
        assert got[name].dtype == t.dtype == torch.int64, (where, name)
        assert torch.equal(got[name], t), f"{where}: {name} differs"


def _run_both(cfg, data, state, steps, path="auto"):
    """Run ``steps`` steps with step_ops and with the interpreter in lockstep, comparing at every op-trace op."""
    program = program_for_config(cfg)
    n = len(cfg.layers) - 1
    groups = optrace_groups(n, cfg.momentum_fixed != 0)
    slots = slots_from_tensors(program, state.tensors)
    for _ in range(steps):
        before = _clone(tensors_from_slots(program, slots))
        x, y = sample_batch(cfg, data, state.step)
        reference = step_ops(cfg, data, state, path)
        interpreted = run_ops(program, slots, x, y, path)
        for top, ops in groups:
            name, live = next(reference)
            assert name == top.name
            for j in ops:
                k, live_slots = next(interpreted)
                assert k == j
            _assert_same(live, program, live_slots, f"step {state.step - (name == 'end')} after {name}")
        assert next(interpreted, None) is None and next(reference, None) is None
        # the state handed to the interpreter is not modified
        assert all(torch.equal(t, before[k]) for k, t in tensors_from_slots(program, slots).items())
        slots = run_step(program, slots, x, y, path)
        assert tensors_from_slots(program, slots).keys() == state.tensors.keys()
        _assert_same(state.tensors, program, slots, f"state after step {state.step}")
    return program, slots


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize(("layers", "batch_size"), [
    ((64, 10), 1), ((64, 16, 10), 5), ((64, 20, 12, 10), 16), ((64, 7, 9, 5, 10), 8), ((64, 32, 10), 64),
])
def test_interpreter_is_bit_exact_with_step_ops_after_every_op(digits, layers, batch_size, momentum):
    cfg = _config(layers, batch_size, momentum)
    state = rt.init_state(cfg, digits)
    _run_both(cfg, digits, state, steps=3)
    assert state.step == 3


@pytest.mark.parametrize("path", ["float64", "int64"])
def test_interpreter_is_bit_exact_on_either_matmul_path(digits, path):
    cfg = _config((64, 24, 10), 12, 0.5, lr=0.25, seed=11)
    state = rt.train(cfg, digits, rt.init_state(cfg, digits), 5)
    _run_both(cfg, digits, state, steps=2, path=path)


def test_interpreted_training_reaches_the_same_state_root(digits):
    cfg = _config((64, 16, 10), 8, 0.9)
    want = rt.train(cfg, digits, rt.init_state(cfg, digits), 10)
    program = program_for_config(cfg)
    slots = slots_from_tensors(program, rt.init_state(cfg, digits).tensors)
    for s in range(10):
        slots = run_step(program, slots, *sample_batch(cfg, digits, s))
    assert rt.State(10, cfg.layers, tensors_from_slots(program, slots)).root() == want.root()


@st.composite
def setups(draw):
    """A small MLP, data and state with values anywhere in the clamp ranges (most draws saturate somewhere)."""
    d = draw(st.integers(1, 6))
    hidden = draw(st.lists(st.integers(1, 6), min_size=0, max_size=2))
    c = draw(st.integers(2, 4))
    layers = (d, *hidden, c)
    cfg = _config(layers, draw(st.integers(1, 5)), draw(st.sampled_from([0.0, 0.5, 0.9])),
                  lr=draw(st.sampled_from([0.01, 0.05, 0.5, 4.0])), seed=draw(st.integers(0, 2**64 - 1)))
    bound = CLAMP if draw(st.booleans()) else ONE
    val = st.integers(-bound, bound)
    rows = 6
    x = np.array(draw(st.lists(st.lists(val, min_size=d, max_size=d), min_size=rows, max_size=rows)),
                 dtype=np.int64)
    y = np.array(draw(st.lists(st.integers(0, c - 1), min_size=rows, max_size=rows)), dtype=np.int64)
    test = np.zeros(rows, dtype=bool)
    test[-1] = True
    data = rt.Dataset.from_arrays(x, y, test)
    state = rt.init_state(cfg, data)
    for name, t in state.tensors.items():
        vals = st.integers(-MOMENTUM_CLAMP, MOMENTUM_CLAMP) if "momentum" in name else val
        state.tensors[name] = torch.tensor(draw(st.lists(vals, min_size=t.numel(), max_size=t.numel())),
                                           dtype=torch.int64).reshape(t.shape)
    return cfg, data, state


@settings(max_examples=40, deadline=None)
@given(setups())
def test_interpreter_is_bit_exact_with_step_ops_on_random_states(setup):
    cfg, data, state = setup
    _run_both(cfg, data, state, steps=2)


# -- the MLP's program and its op-trace groups ------------------------------------------------------------
@pytest.mark.parametrize("momentum", [False, True])
@pytest.mark.parametrize("n_layers", [1, 2, 3, 4])
def test_optrace_groups_cover_every_program_op_in_order(n_layers, momentum):
    groups = optrace_groups(n_layers, momentum)
    program = mlp_program([5] * (n_layers + 1), 3, 100, 1000 if momentum else 0)
    assert [top for top, _ in groups] == op_schedule(n_layers)
    assert [j for _, ops in groups for j in ops] == list(range(len(program.ops)))
    assert len(program.ops) == (9 if momentum else 7) * n_layers + 1
    assert len(groups) == op_count(n_layers)
    kinds = {top.kind: {program.ops[j].kind for j in ops} for top, ops in groups}
    assert kinds["batch"] == {OpKind.LOAD_FEATURES, OpKind.LOAD_LABELS}
    assert kinds["end"] == set()
    assert kinds["sgd_weight"] == ({OpKind.MOMENTUM, OpKind.SGD} if momentum else {OpKind.SGD})


def test_mlp_header_states_its_exact_limits():
    program = mlp_program((64, 16, 10), 5, round(0.05 * ONE), round(0.9 * ONE))
    assert program.header == measure(program.slots, program.ops)
    # largest tensor: W0 [16, 64]; largest reduction: linear0 sums 64 terms; depth: load, 2 linears + relu,
    # softmax, grad_input1, grad_weight0, momentum, sgd
    assert program.header == Header(n_slots=19, n_ops=19, depth=9, max_tensor=1024, max_reduction=64)
    assert [s.name for s in program.slots if s.role == Role.PARAMETER] == ["l0.weight", "l0.bias", "l1.weight",
                                                                           "l1.bias"]


def test_mlp_program_refuses_what_the_runtime_cannot_bound():
    with pytest.raises(ProgramError, match="the program's largest reduction is 4097, above 4096"):
        mlp_program((MAX_WIDTH + 1, 10), 4, 100)
    with pytest.raises(ProgramError, match="param lr = 0 is outside"):
        mlp_program((4, 3), 4, 0)
    with pytest.raises(ProgramError, match="param momentum = 65536 is outside"):
        mlp_program((4, 3), 4, 100, ONE)
    with pytest.raises(ProgramError, match="at least two widths"):
        mlp_program((4,), 4, 100)


# -- encoding ---------------------------------------------------------------------------------------------
def _small():
    return mlp_program((4, 3, 2), 2, 3277, 58982)


@pytest.mark.parametrize("momentum", [0, 58982])
@pytest.mark.parametrize("widths", [(4, 2), (64, 16, 10), (6, 5, 4, 3)])
def test_program_bytes_round_trip(widths, momentum):
    program = mlp_program(widths, 7, 3277, momentum)
    raw = program.to_bytes()
    assert len(raw) == ENTRY_SIZE * (1 + len(program.slots) + len(program.ops))
    back = Program.from_bytes(raw)
    assert back == program and back.root() == program.root() == program_root(program)
    assert program.entries() == [raw[i : i + ENTRY_SIZE] for i in range(0, len(raw), ENTRY_SIZE)]
    validate(back)


def test_entry_layout_is_the_documented_one():
    program = _small()
    op = program.ops[2]  # linear0: a0, l0.weight, l0.bias -> z0, shape [2, 3], params 16, 2^20
    e = encode_op(op)
    assert e[:4] == b"TYO1" and e[4] == OpKind.LINEAR and e[5] == 3
    assert int.from_bytes(e[6:8], "big") == op.output
    assert [int.from_bytes(e[8 + 2 * i : 10 + 2 * i], "big") for i in range(4)] == [*op.inputs, 0]
    assert e[16] == 2 and e[24:40] == (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes(8)
    assert e[40:72] == (16).to_bytes(8, "big") + CLAMP.to_bytes(8, "big") + bytes(16)
    s = encode_slot(program.slots[0])
    assert s[:4] == b"TYS1" and s[4] == Role.PARAMETER and s[5] == 2 and s[24:56] == b"l0.weight".ljust(32, b"\0")
    h = encode_header(program.header)
    assert h[:4] == b"TYH1" and int.from_bytes(h[8:12], "big") == len(program.ops) and not any(h[32:])
    raw = program.to_bytes()
    leaves = [merkle.indexed(i, raw[k : k + ENTRY_SIZE]) for i, k in enumerate(range(0, len(raw), ENTRY_SIZE))]
    assert program.root() == merkle.root(leaves)
    assert leaves[program.op_leaf_index(2)] == (1 + len(program.slots) + 2).to_bytes(8, "big") + e
    neg = encode_op(dataclasses.replace(op, kind=OpKind.SGD, inputs=(0, 1), params=(-1, 1, 1)))
    assert neg[40:48] == b"\xff" * 8  # int64 two's complement


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(list(OpKind)), slots=st.lists(st.integers(0, 65535), min_size=5, max_size=5),
       shape=st.lists(st.integers(1, 2**32 - 1), max_size=4),
       params=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=4, max_size=4))
def test_op_entry_round_trips(kind, slots, shape, params):
    from trainyard.program.format import KINDS

    rule = KINDS[kind]
    op = Op(kind, tuple(slots[: rule.arity]), slots[4], tuple(shape), tuple(params[: len(rule.params)]))
    e = encode_op(op)
    assert len(e) == ENTRY_SIZE and decode_op(e) == op


@settings(max_examples=100, deadline=None)
@given(role=st.sampled_from(list(Role)), shape=st.lists(st.integers(1, 2**32 - 1), max_size=4),
       name=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=32),
       header=st.tuples(*[st.integers(0, 2**32 - 1)] * 3, *[st.integers(0, 2**64 - 1)] * 2))
def test_slot_and_header_entries_round_trip(role, shape, name, header):
    slot = Slot(role, tuple(shape), name)
    assert decode_slot(encode_slot(slot)) == slot
    h = Header(*header)
    assert decode_header(encode_header(h)) == h


def test_every_bit_of_the_encoding_is_covered_by_the_root():
    """Flip any bit of any entry: the entry no longer decodes, or it decodes to a value whose encoding is exactly
    the flipped bytes (one encoding per program), and the program's root changes."""
    program = _small()
    entries = program.entries()
    root = program.root()
    refused = 0
    for e, entry in enumerate(entries):
        for i in range(ENTRY_SIZE * 8):
            flipped = bytearray(entry)
            flipped[i // 8] ^= 1 << (i % 8)
            changed = [*entries[:e], bytes(flipped), *entries[e + 1:]]
            try:
                if e == 0:  # the header also fixes how the rest is read
                    other = Program.from_bytes(b"".join(changed)).entries()
                elif e <= len(program.slots):
                    other = [*entries[:e], encode_slot(decode_slot(bytes(flipped))), *entries[e + 1:]]
                else:
                    other = [*entries[:e], encode_op(decode_op(bytes(flipped))), *entries[e + 1:]]
            except ProgramError:
                refused += 1
                continue
            assert other == changed
            assert merkle.root([merkle.indexed(k, x) for k, x in enumerate(other)]) != root
    assert 0 < refused < len(entries) * ENTRY_SIZE * 8


def test_root_changes_when_any_field_changes():
    program = _small()
    root = program.root()
    variants = []
    h = program.header
    for field in dataclasses.fields(Header):
        variants.append(dataclasses.replace(program, header=dataclasses.replace(h, **{field.name: getattr(
            h, field.name) + 1})))
    slot = program.slots[1]
    for change in ({"role": Role.OPTIMIZER}, {"shape": (4,)}, {"name": "l0.bias2"}):
        variants.append(dataclasses.replace(program, slots=(program.slots[0], dataclasses.replace(slot, **change),
                                                            *program.slots[2:])))
    op = program.ops[2]
    for change in ({"kind": OpKind.LINEAR_GRAD_INPUT}, {"inputs": (op.inputs[0], op.inputs[1], 0)},
                   {"output": op.output + 1}, {"shape": (2, 4)}, {"params": (15, CLAMP)},
                   {"params": (16, CLAMP - 1)}):
        variants.append(dataclasses.replace(program, ops=(*program.ops[:2], dataclasses.replace(op, **change),
                                                          *program.ops[3:])))
    variants.append(dataclasses.replace(program, ops=(program.ops[1], program.ops[0], *program.ops[2:])))
    variants.append(dataclasses.replace(program, slots=(program.slots[1], program.slots[0], *program.slots[2:])))
    variants += [mlp_program((4, 3, 2), 2, 3278, 58982), mlp_program((4, 3, 2), 2, 3277, 58983),
                 mlp_program((4, 3, 2), 3, 3277, 58982), mlp_program((4, 3, 2), 2, 3277, 0),
                 mlp_program((4, 4, 2), 2, 3277, 58982)]
    roots = {v.root() for v in variants}
    assert root not in roots and len(roots) == len(variants)


# -- validation ------------------------------------------------------------------------------------------
def _with_op(program, j, **change):
    ops = list(program.ops)
    ops[j] = dataclasses.replace(ops[j], **change)
    return dataclasses.replace(program, ops=tuple(ops))


def _with_header(program, **change):
    return dataclasses.replace(program, header=dataclasses.replace(program.header, **change))


def _slot(program, name):
    return next(i for i, s in enumerate(program.slots) if s.name == name)


def _raw(slots, ops):
    """A program over these slots and ops with exact counts and the loosest limits (not validated)."""
    return Program(Header(len(slots), len(ops), 2**32 - 1, 2**64 - 1, MAX_WIDTH), tuple(slots), tuple(ops))


_P, _I, _O, _T = Role.PARAMETER, Role.INPUT, Role.OPTIMIZER, Role.INTERMEDIATE
_LOAD = Op(OpKind.LOAD_FEATURES, (), 2, (2, 3))  # the toy programs' first op: slot 2 = features [2, 3]
_TOY = [Slot(_P, (3,), "p"), Slot(_O, (3,), "v"), Slot(_I, (2, 3), "x"), Slot(_P, (3,), "q"), Slot(_O, (3,), "w"),
        Slot(_T, (3,), "gb"), Slot(_I, (2,), "labels"), Slot(_T, (2,), "t")]


def _toy(*ops):
    """A toy program: load the features, the bias gradient gb of them, then ``ops``."""
    return _raw(_TOY, [_LOAD, Op(OpKind.LINEAR_GRAD_BIAS, (2,), 5, (3,), (CLAMP,)), *ops])


def _malformed():
    """(description, malformed program, the message it must be refused with). Each breaks one rule."""
    p = _small()  # ops: 0 load a0, 1 load y, 2 linear0, 3 relu0, 4 linear1, 5 softmax, 6 gw1, 7 gb1, 8 gi1, ...

    def s(name):
        return _slot(p, name)

    n = len(p.slots)
    dup_slots = (*p.slots[:1], dataclasses.replace(p.slots[1], name=p.slots[0].name), *p.slots[2:])
    momentum = Op(OpKind.MOMENTUM, (1, 5), 1, (3,), (ONE // 2, 16, MOMENTUM_CLAMP))
    return [
        ("op count", _with_header(p, n_ops=p.header.n_ops + 1),
         "the header counts 19 slots and 20 ops, the program has 19 and 19"),
        ("slot count", _with_header(p, n_slots=n - 1), "the header counts 18 slots and 19 ops"),
        ("input out of range", _with_op(p, 2, inputs=(s("a0"), n, s("l0.bias"))),
         "op 2 (linear): slot 19 is out of range (the program has 19 slots)"),
        ("output out of range", _with_op(p, 3, output=n + 5), "op 3 (relu): slot 24 is out of range"),
        ("arity", _with_op(p, 3, inputs=(s("z0"), s("z0"))), "op 3 (relu): 2 inputs, the kind has 1"),
        ("param count", _with_op(p, 2, params=(16,)),
         "op 2 (linear): 1 params, the kind has 2 (shift, clamp)"),
        ("clamp above 2^20", _with_op(p, 2, params=(16, CLAMP + 1)),
         "op 2 (linear): param clamp = 1048577 is outside 1..1048576"),
        ("shift 0", _with_op(p, 2, params=(0, CLAMP)), "op 2 (linear): param shift = 0 is outside 1..62"),
        ("learning rate 0", _with_op(p, 12, params=(0, 2 * ONE, CLAMP)),
         "op 12 (sgd): param lr = 0 is outside 1..1048576"),
        ("input shapes", _with_op(p, 2, inputs=(s("a0"), s("l1.weight"), s("l0.bias"))),
         "op 2 (linear): needs a [B, in], W [out, in], b [out], got (2, 4), (2, 3), (3,)"),
        ("output shape vs rule", _with_op(p, 3, shape=(3, 2)),
         "op 3 (relu): output shape (3, 2), the kind's rule gives (2, 3)"),
        ("output shape vs slot", _toy(Op(OpKind.RELU, (5,), 7, (3,))),
         "op 2 (relu): output shape (3,), slot 7 (t) is (2,)"),
        ("read before write", _with_op(p, 3, inputs=(s("g0"),)),
         "op 3 (relu): reads slot 12 (g0) before any op writes it in the step"),
        ("written twice", _with_op(p, 8, output=s("a1")),
         "op 8 (linear_grad_input): slot 11 (a1) is written twice in the step"),
        ("output is an input", _with_op(p, 3, output=s("z0")),
         "op 3 (relu): the output slot 10 is also an input"),
        ("load writes a parameter", _with_op(p, 0, output=s("l0.weight"), shape=(3, 4)),
         "op 0 (load_features): writes slot 0 (l0.weight), a parameter slot; the kind writes input slots"),
        ("an op writes a parameter", _with_op(p, 7, output=s("l1.bias")),
         "op 7 (linear_grad_bias): writes slot 3 (l1.bias), a parameter slot; the kind writes intermediate"),
        ("momentum not in place", _toy(dataclasses.replace(momentum, output=4)),
         "op 2 (momentum): updates in place: the output must be its first input slot"),
        ("momentum writes a parameter", _toy(dataclasses.replace(momentum, inputs=(0, 5), output=0)),
         "op 2 (momentum): writes slot 0 (p), a parameter slot; the kind writes optimizer slots"),
        ("sgd not in place", _toy(Op(OpKind.SGD, (0, 5), 3, (3,), (1, 1, 1))),
         "op 2 (sgd): updates in place: the output must be its first input slot"),
        ("optimizer read by linear", _with_op(p, 2, inputs=(s("a0"), s("l0.weight.momentum"), s("l0.bias"))),
         "op 2 (linear): reads optimizer slot 4 (l0.weight.momentum); only momentum and sgd may"),
        ("optimizer as sgd's parameter", _toy(Op(OpKind.SGD, (1, 5), 1, (3,), (1, 1, 1))),
         "op 2 (sgd): reads optimizer slot 1 (v); only momentum and sgd may"),
        ("labels to an element-wise op", _toy(Op(OpKind.LOAD_LABELS, (), 6, (2,)), Op(OpKind.RELU, (6,), 7, (2,))),
         "op 3 (relu): input 0 is slot 6 (labels): labels go only to softmax_xent_grad's labels"),
        ("labels from another slot", _with_op(p, 5, inputs=(s("z1"), s("l1.bias"))),
         "op 5 (softmax_xent_grad): input 1 must be labels written by load_labels"),
        ("depth limit", _with_header(p, depth=8), "the program's depth is 9, above the header's limit 8"),
        ("tensor limit", _with_header(p, max_tensor=11),
         "the program's largest tensor is 12, above the header's limit 11"),
        ("reduction limit", _with_header(p, max_reduction=3),
         "the program's largest reduction is 4, above the header's limit 3"),
        ("reduction above the runtime's bound", _with_header(p, max_reduction=MAX_WIDTH + 1),
         "the header's largest reduction 4097 is above 4096"),
        ("header field too large", _with_header(p, depth=2**32), "header depth 4294967296 does not fit a uint32"),
        ("duplicate names", dataclasses.replace(p, slots=dup_slots), "slot 1: the name 'l0.weight' is used twice"),
        ("non-ASCII name", dataclasses.replace(p, slots=(dataclasses.replace(p.slots[0], name="l0.wéight"),
                                                         *p.slots[1:])),
         "slot 'l0.wéight': the name must be 1..32 printable ASCII characters"),
        ("long name", dataclasses.replace(p, slots=(dataclasses.replace(p.slots[0], name="x" * 33), *p.slots[1:])),
         f"slot '{'x' * 33}': the name must be 1..32 printable ASCII characters"),
        ("rank 5", _raw([Slot(_I, (1, 1, 1, 1, 1), "x")], []), "slot 'x': rank 5 above 4"),
    ]


_CASES = _malformed()


@pytest.mark.parametrize(("what", "program", "message"), _CASES, ids=[c[0] for c in _CASES])
def test_validate_refuses_a_malformed_program_with_one_line(what, program, message):
    with pytest.raises(ProgramError) as err:
        validate(program)
    assert "\n" not in str(err.value)
    assert str(err.value).startswith(message), str(err.value)
    assert isinstance(err.value, SpecError)


def test_the_toy_programs_are_valid_but_for_the_broken_rule():
    ok = _toy(Op(OpKind.MOMENTUM, (1, 5), 1, (3,), (ONE // 2, 16, MOMENTUM_CLAMP)), Op(OpKind.SGD, (0, 1), 0, (3,),
                                                                                         (1, 1, 1)))
    validate(ok)
    assert measure(ok.slots, ok.ops) == Header(8, 4, 4, 6, 2)


def test_make_program_refuses_an_op_that_is_not_in_place():
    slots = [Slot(Role.PARAMETER, (3,), "p"), Slot(Role.PARAMETER, (3,), "q"), Slot(Role.INPUT, (2, 3), "x")]
    ops = [Op(OpKind.LOAD_FEATURES, (), 2, (2, 3)), Op(OpKind.SGD, (0, 1), 1, (3,), (1, 1, 1))]
    with pytest.raises(ProgramError, match="op 1 \\(sgd\\): updates in place: the output must be its first input"):
        make_program(slots, ops)
    ok = make_program(slots, [ops[0], Op(OpKind.SGD, (0, 1), 0, (3,), (1, 1, 1))])
    assert ok.header == Header(3, 2, 1, 6, 1)


@pytest.mark.parametrize(("what", "mutate", "message"), [
    ("truncated", lambda b: b[:-1], "whole number .* of 72-byte entries"),
    ("extra entry", lambda b: b + b[-ENTRY_SIZE:], "the header names .* the bytes hold"),
    ("header magic", lambda b: b"XYH1" + b[4:], "entry 0 is not a program header"),
    ("header padding", lambda b: b[:40] + b"\x01" + b[41:], "padding bytes 32..71 must be zero"),
    ("slot magic", lambda b: b[:72] + b"TYO1" + b[76:], "slot 0: not a slot entry"),
    ("unknown role", lambda b: b[:76] + b"\x09" + b[77:], "slot 0: unknown role 9"),
    ("slot padding", lambda b: b[:72 + 60] + b"\x01" + b[72 + 61:], "slot 0: padding and unused dimensions"),
    ("unused dimension", lambda b: b[:72 + 20] + b"\x01" + b[72 + 21:], "slot 0: padding and unused dimensions"),
    ("zero dimension", lambda b: b[:72 + 8] + bytes(4) + b[72 + 12:], "slot 0: a dimension is zero"),
    ("name with a NUL inside", lambda b: b[:72 + 25] + b"\0" + b[72 + 26:],
     "printable ASCII characters, NUL-padded"),
])
def test_decoding_refuses_non_canonical_bytes(what, mutate, message):
    raw = _small().to_bytes()
    with pytest.raises(ProgramError, match=message):
        Program.from_bytes(mutate(raw))


def test_decoding_refuses_non_canonical_op_entries():
    p = _small()
    e = encode_op(p.ops[2])
    cases = [
        (e[:4] + bytes([0]) + e[5:], "op 0: unknown op kind 0"),
        (e[:4] + bytes([99]) + e[5:], "op 0: unknown op kind 99"),
        (e[:5] + bytes([2]) + e[6:], "op 0 \\(linear\\): 2 inputs, the kind has 3"),
        (e[:14] + b"\x00\x01" + e[16:], "unused inputs"),
        (e[:20] + b"\x01" + e[21:], "padding"),
        (e[:36] + b"\x00\x00\x00\x01" + e[40:], "unused inputs, dimensions"),
        (e[:64] + (1).to_bytes(8, "big"), "params must be zero"),
        (e[:16] + bytes([5]) + e[17:], "rank 5 above 4"),
        (b"TYS1" + e[4:], "not an op entry"),
    ]
    for raw, message in cases:
        with pytest.raises(ProgramError, match=message):
            decode_op(raw)


# -- the interpreter's own refusals ------------------------------------------------------------------------
def test_run_step_refuses_slots_and_batches_that_do_not_fit_the_program(digits):
    cfg = _config((64, 8, 10), 4, 0.9)
    program = program_for_config(cfg)
    state = rt.init_state(cfg, digits)
    slots = slots_from_tensors(program, state.tensors)
    x, y = sample_batch(cfg, digits, 0)
    cases = [
        (slots[:-1], x, y, "the program has .* slots, got"),
        ([None, *slots[1:]], x, y,
         r"slot 0 \(l0.weight\) must hold int64 \(8, 64\) at the start of a step, got nothing"),
        ([slots[0].T.contiguous(), *slots[1:]], x, y, "slot 0 \\(l0.weight\\) must hold int64 \\(8, 64\\)"),
        ([slots[0].double(), *slots[1:]], x, y, "got torch.float64"),
        ([*slots[:-1], torch.zeros(10, dtype=torch.int64)], x, y, "intermediate slot: it must be empty"),
        (slots, x.double(), y, "the batch's features must be int64"),
        (slots, x.clone().fill_(CLAMP + 1), y, "features must lie within ±1048576"),
        (slots, x, y + 10, "labels must lie in 0..9"),
        (slots, x[:3], y[:3], "op 0 \\(load_features\\) made shape \\(3, 64\\), the program says \\(4, 64\\)"),
    ]
    for s, xx, yy, message in cases:
        with pytest.raises(ProgramError, match=message):
            run_step(program, s, xx, yy)


def test_encoding_refuses_an_op_that_would_not_decode_back():
    op = _small().ops[2]  # linear: 3 inputs, 2 params
    for change, message in (({"inputs": op.inputs[:2]}, "op linear: 2 inputs, the kind has 3"),
                            ({"params": (16,)}, "op linear: 1 params, the kind has 2"),
                            ({"params": (16, CLAMP, 0)}, "op linear: 3 params, the kind has 2"),
                            ({"output": 1 << 16}, "op linear: slot numbers must fit a uint16"),
                            ({"params": (1 << 63, 0)}, "op linear: params must fit an int64"),
                            ({"shape": (2, 0)}, "op linear: every dimension must be 1..2^32-1")):
        with pytest.raises(ProgramError, match=re.escape(message)):
            encode_op(dataclasses.replace(op, **change))


def test_run_step_validates_the_program_every_time_it_is_malformed(digits):
    cfg = _config((64, 8, 10), 4, 0.0)
    program = program_for_config(cfg)
    slots = slots_from_tensors(program, rt.init_state(cfg, digits).tensors)
    batch = sample_batch(cfg, digits, 0)
    broken = _with_header(program, depth=1)
    for _ in range(2):  # a refusal is not remembered as a pass
        with pytest.raises(ProgramError, match="the program's depth is 8, above the header's limit 1"):
            run_step(broken, slots, *batch)
    as_lists = dataclasses.replace(program, ops=tuple(dataclasses.replace(o, inputs=list(o.inputs))
                                                      for o in program.ops))
    want = run_step(program, slots, *batch)
    got = run_step(as_lists, slots, *batch)
    assert all((a is None and b is None) or torch.equal(a, b) for a, b in zip(want, got, strict=True))
