"""The training program: one training step as data, content-addressed.

A program is a header, a table of numbered tensor *slots* and a list of *ops*. Each op has a kind, input slots, one
output slot, the output's shape and integer parameters; the ops run in order, and together they are one step:
loading the batch, forward, loss gradient, backward and optimizer. Every entry (header, each slot, each op) has a
fixed-width canonical encoding of :data:`ENTRY_SIZE` bytes (layouts below and in docs/runtime.md), and the
program's root is the Merkle root (:mod:`trainyard.merkle`) over the index-bound entries
``uint64_be(i) || entry_i``: entry 0 the header, entries 1..S the slots, entries S+1..S+N the ops. One entry can
therefore be opened against the root on its own.

All integers are big-endian (a Solidity decoder reads them with shifts); params are int64 two's complement.

Header (``b"TYH1"``)::

    0   4  magic "TYH1"
    4   4  uint32 number of slots S
    8   4  uint32 number of ops N
    12  4  uint32 depth (limit): the longest chain of ops each reading an output of the one before, in one step
    16  8  uint64 largest tensor (limit): elements of the largest slot
    24  8  uint64 largest reduction (limit): terms summed into one output element by any op
    32 40  zero

Slot (``b"TYS1"``)::

    0   4  magic "TYS1"
    4   1  role (1 parameter, 2 optimizer state, 3 input, 4 intermediate)
    5   1  rank r (0..4)
    6   2  zero
    8  16  shape: 4 x uint32, the first r used, the rest zero
    24 32  name: printable ASCII, NUL-padded (1..32 characters)
    56 16  zero

Op (``b"TYO1"``)::

    0   4  magic "TYO1"
    4   1  kind (:class:`OpKind`)
    5   1  number of inputs n (the kind's arity)
    6   2  uint16 output slot
    8   8  input slots: 4 x uint16, the first n used, the rest zero
    16  1  rank r of the output (0..4)
    17  7  zero
    24 16  output shape: 4 x uint32, the first r used, the rest zero
    40 32  params: 4 x int64, the kind's params first, the rest zero

Decoding refuses any other bytes (wrong magic, non-zero padding, unknown kind or role), so each program has exactly
one encoding. :func:`validate` checks what the bytes cannot: slot references in range, shapes consistent with each
kind's rule, roles, parameter ranges and the header's limits.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trainyard import merkle
from trainyard.errors import ProgramError
from trainyard.runtime.fixed import CLAMP, MAX_WIDTH, ONE
from trainyard.runtime.model import MOMENTUM_CLAMP

ENTRY_SIZE = 72
MAX_RANK = 4
MAX_INPUTS = 4
N_PARAMS = 4
NAME_SIZE = 32
MAX_SLOTS = 1 << 16  # slot numbers are uint16
MAX_SHIFT = 62

HEADER_MAGIC = b"TYH1"
SLOT_MAGIC = b"TYS1"
OP_MAGIC = b"TYO1"

_U32 = (1 << 32) - 1
_U64 = (1 << 64) - 1
_I64 = 1 << 63


class Role(enum.IntEnum):
    """What a slot holds. Parameters and optimizer state are the state carried from step to step; input and
    intermediate slots are empty at the start of a step and dropped at its end. 0 is not a role."""

    PARAMETER = 1
    OPTIMIZER = 2
    INPUT = 3
    INTERMEDIATE = 4


class OpKind(enum.IntEnum):
    """The op kinds (0 is not a kind). Each one's rule is a function of :mod:`trainyard.runtime.model`."""

    LOAD_FEATURES = 1
    LOAD_LABELS = 2
    LINEAR = 3
    RELU = 4
    SOFTMAX_XENT_GRAD = 5
    LINEAR_GRAD_WEIGHT = 6
    LINEAR_GRAD_BIAS = 7
    LINEAR_GRAD_INPUT = 8
    MOMENTUM = 9
    SGD = 10


_ROLES = frozenset(int(r) for r in Role)
_KINDS = frozenset(int(k) for k in OpKind)


@dataclass(frozen=True)
class Header:
    n_slots: int
    n_ops: int
    depth: int
    max_tensor: int
    max_reduction: int


@dataclass(frozen=True)
class Slot:
    role: Role
    shape: tuple[int, ...]
    name: str

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass(frozen=True)
class Op:
    kind: OpKind
    inputs: tuple[int, ...]
    output: int
    shape: tuple[int, ...]
    params: tuple[int, ...] = ()


@dataclass(frozen=True)
class Program:
    header: Header
    slots: tuple[Slot, ...]
    ops: tuple[Op, ...]

    def entries(self) -> list[bytes]:
        """The encoded entries in leaf order: header, slots, ops."""
        return ([encode_header(self.header)] + [encode_slot(s) for s in self.slots]
                + [encode_op(o) for o in self.ops])

    def leaves(self) -> list[bytes]:
        return [merkle.indexed(i, e) for i, e in enumerate(self.entries())]

    def root(self) -> bytes:
        return merkle.root(self.leaves())

    def to_bytes(self) -> bytes:
        """header || slots || ops, each entry ENTRY_SIZE bytes (what a content store keeps)."""
        return b"".join(self.entries())

    @classmethod
    def from_bytes(cls, data: bytes) -> Program:
        """Decode (byte-level canonical form only; call :func:`validate` for the rules)."""
        if len(data) < ENTRY_SIZE or len(data) % ENTRY_SIZE:
            raise ProgramError(f"a program is a whole number (>= 1) of {ENTRY_SIZE}-byte entries, "
                               f"got {len(data)} bytes")
        header = decode_header(data[:ENTRY_SIZE])
        count = len(data) // ENTRY_SIZE
        if count != 1 + header.n_slots + header.n_ops:
            raise ProgramError(f"the header names {header.n_slots} slots and {header.n_ops} ops, the bytes hold "
                               f"{count - 1} entries after it")
        entries = [data[i * ENTRY_SIZE : (i + 1) * ENTRY_SIZE] for i in range(1, count)]
        slots = tuple(decode_slot(e, i) for i, e in enumerate(entries[: header.n_slots]))
        ops = tuple(decode_op(e, j) for j, e in enumerate(entries[header.n_slots :]))
        return cls(header, slots, ops)

    def op_leaf_index(self, j: int) -> int:
        """The leaf of op j (0-based) in the program's tree."""
        return 1 + len(self.slots) + j


def program_root(program: Program) -> bytes:
    """The program's content address: the Merkle root of its index-bound entries."""
    return program.root()


# -- encoding -------------------------------------------------------------------------------------------------
def _need(ok: bool, message: str) -> None:
    if not ok:
        raise ProgramError(message)


def _shape_bytes(shape: Sequence[int], what: str) -> bytes:
    _need(len(shape) <= MAX_RANK, f"{what}: rank {len(shape)} above {MAX_RANK}")
    _need(all(1 <= d <= _U32 for d in shape), f"{what}: every dimension must be 1..2^32-1, got {tuple(shape)}")
    return struct.pack(">4I", *shape, *([0] * (MAX_RANK - len(shape))))


def encode_header(h: Header) -> bytes:
    for name in ("n_slots", "n_ops", "depth"):
        _need(0 <= getattr(h, name) <= _U32, f"header {name} {getattr(h, name)} does not fit a uint32")
    for name in ("max_tensor", "max_reduction"):
        _need(0 <= getattr(h, name) <= _U64, f"header {name} {getattr(h, name)} does not fit a uint64")
    out = HEADER_MAGIC + struct.pack(">3I2Q", h.n_slots, h.n_ops, h.depth, h.max_tensor, h.max_reduction)
    return out + bytes(ENTRY_SIZE - len(out))


def decode_header(b: bytes) -> Header:
    _need(len(b) == ENTRY_SIZE and b[:4] == HEADER_MAGIC, "entry 0 is not a program header (magic TYH1)")
    _need(not any(b[32:]), "program header: padding bytes 32..71 must be zero")
    n_slots, n_ops, depth, max_tensor, max_reduction = struct.unpack(">3I2Q", b[4:32])
    return Header(n_slots, n_ops, depth, max_tensor, max_reduction)


def encode_slot(s: Slot) -> bytes:
    what = f"slot {s.name!r}"
    _need(isinstance(s.role, Role), f"{what}: role must be a Role, got {s.role!r}")
    raw = s.name.encode("ascii", "replace")
    _need(s.name.isascii() and 1 <= len(raw) <= NAME_SIZE and all(0x20 <= c <= 0x7E for c in raw),
          f"{what}: the name must be 1..{NAME_SIZE} printable ASCII characters")
    out = SLOT_MAGIC + bytes([s.role, len(s.shape)]) + bytes(2) + _shape_bytes(s.shape, what)
    out += raw + bytes(NAME_SIZE - len(raw))
    return out + bytes(ENTRY_SIZE - len(out))


def decode_slot(b: bytes, index: int = 0) -> Slot:
    what = f"slot {index}"
    _need(len(b) == ENTRY_SIZE and b[:4] == SLOT_MAGIC, f"{what}: not a slot entry (magic TYS1)")
    _need(b[4] in _ROLES, f"{what}: unknown role {b[4]}")
    rank = b[5]
    _need(rank <= MAX_RANK, f"{what}: rank {rank} above {MAX_RANK}")
    dims = struct.unpack(">4I", b[8:24])
    _need(not any(b[6:8]) and not any(dims[rank:]) and not any(b[56:]),
          f"{what}: padding and unused dimensions must be zero")
    _need(all(dims[:rank]), f"{what}: a dimension is zero")
    name = b[24:56].rstrip(b"\0")
    _need(len(name) >= 1 and all(0x20 <= c <= 0x7E for c in name),
          f"{what}: the name must be 1..{NAME_SIZE} printable ASCII characters, NUL-padded")
    return Slot(Role(b[4]), tuple(dims[:rank]), name.decode("ascii"))


def encode_op(o: Op) -> bytes:
    _need(isinstance(o.kind, OpKind), f"op kind must be an OpKind, got {o.kind!r}")
    what, rule = f"op {o.kind.name.lower()}", KINDS[o.kind]
    # only what decodes back: the kind's arity and number of params
    _need(len(o.inputs) == rule.arity, f"{what}: {len(o.inputs)} inputs, the kind has {rule.arity}")
    _need(all(0 <= s < MAX_SLOTS for s in (*o.inputs, o.output)), f"{what}: slot numbers must fit a uint16")
    _need(len(o.params) == len(rule.params), f"{what}: {len(o.params)} params, the kind has {len(rule.params)}")
    _need(all(-_I64 <= p < _I64 for p in o.params), f"{what}: params must fit an int64, got {o.params}")
    out = OP_MAGIC + bytes([o.kind, len(o.inputs)]) + struct.pack(">H", o.output)
    out += struct.pack(">4H", *o.inputs, *([0] * (MAX_INPUTS - len(o.inputs))))
    out += bytes([len(o.shape)]) + bytes(7) + _shape_bytes(o.shape, what)
    out += struct.pack(">4q", *o.params, *([0] * (N_PARAMS - len(o.params))))
    return out


def decode_op(b: bytes, index: int = 0) -> Op:
    what = f"op {index}"
    _need(len(b) == ENTRY_SIZE and b[:4] == OP_MAGIC, f"{what}: not an op entry (magic TYO1)")
    _need(b[4] in _KINDS, f"{what}: unknown op kind {b[4]}")
    kind = OpKind(b[4])
    n_in, rank = b[5], b[16]
    _need(n_in == KINDS[kind].arity, f"{what} ({kind.name.lower()}): {n_in} inputs, the kind has "
                                     f"{KINDS[kind].arity}")
    _need(rank <= MAX_RANK, f"{what}: rank {rank} above {MAX_RANK}")
    (output,) = struct.unpack(">H", b[6:8])
    inputs = struct.unpack(">4H", b[8:16])
    dims = struct.unpack(">4I", b[24:40])
    params = struct.unpack(">4q", b[40:72])
    n_par = len(KINDS[kind].params)
    _need(not any(inputs[n_in:]) and not any(b[17:24]) and not any(dims[rank:]) and not any(params[n_par:]),
          f"{what}: padding, unused inputs, dimensions and params must be zero")
    _need(all(dims[:rank]), f"{what}: a dimension is zero")
    return Op(kind, tuple(inputs[:n_in]), output, tuple(dims[:rank]), tuple(params[:n_par]))


# -- the kinds' rules ---------------------------------------------------------------------------------------
Shapes = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class KindRule:
    """An op kind's arity, its params (name, lowest, highest) and its shape rule: the input shapes give the output
    shape and the number of terms one output element sums (or a message saying what does not fit)."""

    arity: int
    params: tuple[tuple[str, int, int], ...]
    shape: Callable[[Shapes, tuple[int, ...]], tuple[tuple[int, ...], int] | str]


def _load_features(ins: Shapes, out: tuple[int, ...]) -> tuple[tuple[int, ...], int] | str:
    return (out, 1) if len(out) == 2 else f"the batch's features are [B, d], got {out}"


def _load_labels(ins: Shapes, out: tuple[int, ...]) -> tuple[tuple[int, ...], int] | str:
    return (out, 1) if len(out) == 1 else f"the batch's labels are [B], got {out}"


def _linear(ins: Shapes, out: tuple[int, ...]) -> tuple[tuple[int, ...], int] | str:
    a, w, b = ins
    if len(a) != 2 or len(w) != 2 or len(b) != 1 or a[1] != w[1] or b[0] != w[0]:
        return f"needs a [B, in], W [out, in], b [out], got {a}, {w}, {b}"
    return (a[0], w[0]), a[1]


def _elementwise(ins: Shapes, out: tuple[int, ...]) -> tuple[tuple[int, ...], int] | str:
    if any(s != ins[0] for s in ins):
        return f"needs inputs of one shape, got {', '.join(map(str, ins))}"
    return ins[0], 1


def _softmax_xent_grad(ins: Shapes, out: tuple[int, ...]) -> tuple[tuple[int, ...], int] | str:
    z, y = ins
    if len(z) != 2 or y != (z[0],):
        return f"needs logits [B, C] and labels [B], got {z}, {y}"
    return z, z[1]


def _grad_weight(ins: Shapes, out: tuple[int, ...]) -> tuple[tuple[int, ...], int] | str:
    g, a = ins
    if len(g) != 2 or len(a) != 2 or g[0] != a[0]:
        return f"needs g [B, out] and a [B, in], got {g}, {a}"
    return (g[1], a[1]), g[0]


def _grad_bias(ins: Shapes, out: tuple[int, ...]) -> tuple[tuple[int, ...], int] | str:
    (g,) = ins
    if len(g) != 2:
        return f"needs g [B, out], got {g}"
    return (g[1],), g[0]


def _grad_input(ins: Shapes, out: tuple[int, ...]) -> tuple[tuple[int, ...], int] | str:
    g, w, z = ins
    if len(g) != 2 or len(w) != 2 or g[1] != w[0] or z != (g[0], w[1]):
        return f"needs g [B, out], W [out, in] and the mask z [B, in], got {g}, {w}, {z}"
    return z, w[0]


_SHIFT = ("shift", 1, MAX_SHIFT)
_CLAMP = ("clamp", 1, CLAMP)

KINDS: dict[OpKind, KindRule] = {
    OpKind.LOAD_FEATURES: KindRule(0, (), _load_features),
    OpKind.LOAD_LABELS: KindRule(0, (), _load_labels),
    OpKind.LINEAR: KindRule(3, (_SHIFT, _CLAMP), _linear),
    OpKind.RELU: KindRule(1, (), _elementwise),
    OpKind.SOFTMAX_XENT_GRAD: KindRule(2, (), _softmax_xent_grad),
    OpKind.LINEAR_GRAD_WEIGHT: KindRule(2, (_SHIFT, _CLAMP), _grad_weight),
    OpKind.LINEAR_GRAD_BIAS: KindRule(1, (_CLAMP,), _grad_bias),
    OpKind.LINEAR_GRAD_INPUT: KindRule(3, (_SHIFT, _CLAMP), _grad_input),
    OpKind.MOMENTUM: KindRule(2, (("momentum", 0, ONE - 1), _SHIFT, ("clamp", 1, MOMENTUM_CLAMP)), _elementwise),
    OpKind.SGD: KindRule(2, (("lr", 1, 16 * ONE), ("divisor", 1, MAX_WIDTH * ONE), _CLAMP), _elementwise),
}


# -- validation -------------------------------------------------------------------------------------------
def measure(slots: Sequence[Slot], ops: Sequence[Op]) -> Header:
    """The header of exact aggregates of these slots and ops (the ops must reference slots in range and follow
    their kinds' shape rules: :func:`validate` checks that first)."""
    depth_of: dict[int, int] = {}  # slot -> depth of the op that last wrote it in this step
    depth = reduction = 0
    for op in ops:
        d = 1 + max((depth_of.get(s, 0) for s in op.inputs), default=0)
        depth_of[op.output] = d
        depth = max(depth, d)
        res = KINDS[op.kind].shape(tuple(slots[s].shape for s in op.inputs), op.shape)
        assert not isinstance(res, str), res
        reduction = max(reduction, res[1])
    return Header(len(slots), len(ops), depth, max((s.size for s in slots), default=0), reduction)


def make_program(slots: Sequence[Slot], ops: Sequence[Op]) -> Program:
    """A validated program whose header states the exact aggregates of its slots and ops."""
    draft = Program(Header(len(slots), len(ops), _U32, _U64, MAX_WIDTH), tuple(slots), tuple(ops))
    validate(draft)
    return Program(measure(slots, ops), tuple(slots), tuple(ops))


def validate(p: Program) -> None:
    """Raise :class:`ProgramError` (one line, naming the entry) unless ``p`` follows every rule:

    - the header counts the slots and ops, and its limits hold: depth, largest tensor and largest reduction of the
      program are at most the header's, and the header's largest reduction is at most MAX_WIDTH (4096, what keeps
      every matmul's partial sums below 2^53);
    - slot names are unique; every op's slot numbers are in range; its arity, params and their ranges are the
      kind's; its input shapes fit the kind's rule and its output shape is the rule's and the output slot's;
    - roles: load ops write input slots; momentum writes an optimizer slot in place (output = its first input),
      SGD a parameter slot in place; every other op writes an intermediate slot that is not one of its inputs; no
      slot is written twice in a step; input and intermediate slots are read only after they are written; the
      labels (written by load_labels) are read only as softmax_xent_grad's labels, which must be labels; optimizer
      slots (bound 2^24) are read only by momentum and SGD, so every matmul operand stays within ±2^20.
    """
    h, slots = p.header, p.slots
    encode_header(h)
    _need(h.n_slots == len(slots) and h.n_ops == len(p.ops),
          f"the header counts {h.n_slots} slots and {h.n_ops} ops, the program has {len(slots)} and {len(p.ops)}")
    _need(len(slots) <= MAX_SLOTS, f"{len(slots)} slots, at most {MAX_SLOTS}")
    names: set[str] = set()
    for i, s in enumerate(slots):
        encode_slot(s)
        _need(s.name not in names, f"slot {i}: the name {s.name!r} is used twice")
        names.add(s.name)
    written: set[int] = set()
    labels: set[int] = set()
    for j, op in enumerate(p.ops):
        _validate_op(j, op, slots, written, labels)
    m = measure(slots, p.ops)
    _need(m.max_reduction <= MAX_WIDTH, f"the program's largest reduction is {m.max_reduction}, above {MAX_WIDTH} "
                                        f"(2^20 · 2^20 · {MAX_WIDTH} = 2^52 bounds every matmul)")
    _need(h.max_reduction <= MAX_WIDTH, f"the header's largest reduction {h.max_reduction} is above {MAX_WIDTH} "
                                        f"(2^20 · 2^20 · {MAX_WIDTH} = 2^52 bounds every matmul)")
    for field, limit, got in (("depth", h.depth, m.depth), ("largest tensor", h.max_tensor, m.max_tensor),
                              ("largest reduction", h.max_reduction, m.max_reduction)):
        _need(got <= limit, f"the program's {field} is {got}, above the header's limit {limit}")


def _validate_op(j: int, op: Op, slots: Sequence[Slot], written: set[int], labels: set[int]) -> None:
    what = f"op {j} ({op.kind.name.lower() if isinstance(op.kind, OpKind) else op.kind})"
    _need(isinstance(op.kind, OpKind), f"{what}: unknown op kind")
    rule = KINDS[op.kind]
    _need(len(op.inputs) == rule.arity, f"{what}: {len(op.inputs)} inputs, the kind has {rule.arity}")
    for s in (*op.inputs, op.output):
        _need(0 <= s < len(slots), f"{what}: slot {s} is out of range (the program has {len(slots)} slots)")
    _need(len(op.params) == len(rule.params), f"{what}: {len(op.params)} params, the kind has "
                                              f"{len(rule.params)} ({', '.join(n for n, _, _ in rule.params)})")
    for value, (name, lo, hi) in zip(op.params, rule.params, strict=True):
        _need(lo <= value <= hi, f"{what}: param {name} = {value} is outside {lo}..{hi}")
    res = rule.shape(tuple(slots[s].shape for s in op.inputs), op.shape)
    _need(not isinstance(res, str), f"{what}: {res}")
    assert not isinstance(res, str)
    _need(op.shape == res[0], f"{what}: output shape {op.shape}, the kind's rule gives {res[0]}")
    out = slots[op.output]
    _need(out.shape == op.shape, f"{what}: output shape {op.shape}, slot {op.output} ({out.name}) is {out.shape}")

    for pos, s in enumerate(op.inputs):
        role = slots[s].role
        if role in (Role.INPUT, Role.INTERMEDIATE):
            _need(s in written, f"{what}: reads slot {s} ({slots[s].name}) before any op writes it in the step")
        is_label_input = op.kind == OpKind.SOFTMAX_XENT_GRAD and pos == 1
        _need((s in labels) == is_label_input,
              f"{what}: input {pos} is slot {s} ({slots[s].name}): labels go only to softmax_xent_grad's labels"
              if s in labels else f"{what}: input {pos} must be labels written by load_labels")
        if role == Role.OPTIMIZER:
            _need((op.kind, pos) in ((OpKind.MOMENTUM, 0), (OpKind.SGD, 1)),
                  f"{what}: reads optimizer slot {s} ({slots[s].name}); only momentum and sgd may")
    expected = {OpKind.LOAD_FEATURES: Role.INPUT, OpKind.LOAD_LABELS: Role.INPUT, OpKind.MOMENTUM: Role.OPTIMIZER,
                OpKind.SGD: Role.PARAMETER}.get(op.kind, Role.INTERMEDIATE)
    _need(out.role == expected, f"{what}: writes slot {op.output} ({out.name}), a {out.role.name.lower()} slot; "
                                f"the kind writes {expected.name.lower()} slots")
    if op.kind in (OpKind.MOMENTUM, OpKind.SGD):
        _need(op.output == op.inputs[0], f"{what}: updates in place: the output must be its first input slot")
    else:
        _need(op.output not in op.inputs, f"{what}: the output slot {op.output} is also an input")
    _need(op.output not in written, f"{what}: slot {op.output} ({out.name}) is written twice in the step")
    written.add(op.output)
    if op.kind == OpKind.LOAD_LABELS:
        labels.add(op.output)
