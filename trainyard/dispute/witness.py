"""Arguments of the dispute game's one-step moves, and a Python reference of what the contract recomputes.

The layout is docs/disputes.md's: which slots op i reads, writes and empties; which values of its input tensors one
output value depends on; the chunk openings and the data row a challenger sends with ``proveElement``; and the
recomputation of that one value from the opened chunks alone (:func:`element_from_args`, the twin of
``OneStep.expectedValue``), by the rounding rules of :mod:`trainyard.runtime.fixed`. All positions are flat,
row-major; a tensor's chunk c holds its values 64c .. 64c + 63.

The moves, in order: the solver's :func:`reveal_op_args`; the challenger's :func:`find_dispute` and
:func:`name_chunk_args`; the solver's :func:`chunk_data`; the challenger's :func:`differing_element` and
:func:`prove_element_args`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from trainyard import merkle
from trainyard.runtime import commit
from trainyard.runtime.commit import CHUNK
from trainyard.runtime.data import Dataset
from trainyard.runtime.fixed import ONE, batch_indices, clamp, div_round, rshift_round, softmax
from trainyard.runtime.model import MOMENTUM_CLAMP, TrainConfig
from trainyard.runtime.optrace import Op
from trainyard.spec_core import data_root, data_row_proof

Openings = tuple[list[int], list[bytes], list[list[bytes]]]  # chunk indices, chunk data, inclusion proofs
Row = tuple[int, int, bytes, list[bytes]]  # training-row index, label, features (int64 le), proof
NO_ROW: Row = (0, 0, b"", [])

# ------------------------------------------------------------------------------------------------ layout


def _param(op: Op) -> str:
    return f"l{op.layer}.{op.kind[4:]}"  # sgd_weight -> l{l}.weight


def output_names(op: Op, n_layers: int, momentum: bool) -> list[str]:
    """The tensors op ``op`` computes, in the order of its outputs."""
    l = op.layer
    by_kind = {
        "batch": ["a0", "y"], "linear": [f"z{l}"], "relu": [f"a{l + 1}"], "softmax_xent_grad": [f"g{n_layers - 1}"],
        "grad_weight": [f"l{l}.weight.grad"], "grad_bias": [f"l{l}.bias.grad"], "grad_input": [f"g{l - 1}"], "end": [],
    }
    if op.kind in ("sgd_weight", "sgd_bias"):
        return [_param(op)] + ([_param(op) + ".momentum"] if momentum else [])
    return by_kind[op.kind]


def input_names(op: Op, n_layers: int, momentum: bool) -> list[str]:
    """The tensors of the agreed state op ``op`` reads, in the contract's order (batch reads a data row)."""
    l = op.layer
    by_kind = {
        "batch": [], "linear": [f"a{l}", f"l{l}.weight", f"l{l}.bias"], "relu": [f"z{l}"],
        "softmax_xent_grad": [f"z{n_layers - 1}", "y"], "grad_weight": [f"g{l}", f"a{l}"], "grad_bias": [f"g{l}"],
        "grad_input": [f"g{l}", f"l{l}.weight", f"z{l - 1}"], "end": [],
    }
    if op.kind in ("sgd_weight", "sgd_bias"):
        return [_param(op), _param(op) + ".grad"] + ([_param(op) + ".momentum"] if momentum else [])
    return by_kind[op.kind]


def _slots(names: Sequence[str], n_layers: int) -> list[int]:
    return [commit.slot_of(n, n_layers) for n in names]


def output_slots(op: Op, n_layers: int, momentum: bool) -> list[int]:
    """Slots op ``op`` computes (sgd: the parameter, then its momentum when the job has momentum)."""
    return _slots(output_names(op, n_layers, momentum), n_layers)


def input_slots(op: Op, n_layers: int, momentum: bool) -> list[int]:
    return _slots(input_names(op, n_layers, momentum), n_layers)


def cleared_slots(op: Op, n_layers: int) -> list[int]:
    """Slots op ``op`` empties: the gradient an sgd op consumes; every intermediate slot at ``end``."""
    if op.kind in ("sgd_weight", "sgd_bias"):
        return [commit.slot_of(_param(op) + ".grad", n_layers)]
    if op.kind == "end":
        return list(range(commit.slot_of("a0", n_layers), commit.n_slots(n_layers)))
    return []


def slot_shape(name: str, layers: Sequence[int], batch_size: int) -> tuple[int, ...]:
    """The shape of the tensor in slot ``name``."""
    if name.startswith("l"):
        l = int(name[1 : name.index(".")])
        return (layers[l + 1], layers[l]) if name.split(".")[1] == "weight" else (layers[l + 1],)
    if name == "y":
        return (batch_size,)
    k = int(name[1:])
    return (batch_size, layers[k] if name[0] == "a" else layers[k + 1])  # a_k is w_k wide; z_l and g_l w_{l+1}


def _size(name: str, layers: Sequence[int], batch_size: int) -> int:
    return int(torch.Size(slot_shape(name, layers, batch_size)).numel())


def gather_positions(
    op: Op, n_layers: int, layers: Sequence[int], batch_size: int, out_index: int, pos: int, *, momentum: bool
) -> list[list[int]]:
    """For each input of op ``op`` (see :func:`input_names`), the flat positions output ``pos`` reads."""
    l, bsz = op.layer, batch_size
    if op.kind == "linear":
        w_in, (b, o) = layers[l], divmod(pos, layers[l + 1])
        return [_run(b * w_in, w_in), _run(o * w_in, w_in), [o]]
    if op.kind == "softmax_xent_grad":
        c = layers[n_layers]
        return [_run(pos // c * c, c), [pos // c]]
    if op.kind == "grad_weight":
        w_in, w_out = layers[l], layers[l + 1]
        o, i = divmod(pos, w_in)
        return [[o + b * w_out for b in range(bsz)], [i + b * w_in for b in range(bsz)]]
    if op.kind == "grad_bias":
        return [[pos + b * layers[l + 1] for b in range(bsz)]]
    if op.kind == "grad_input":
        w_in, w_out = layers[l], layers[l + 1]
        b, i = divmod(pos, w_in)
        return [_run(b * w_out, w_out), [i + o * w_in for o in range(w_out)], [pos]]
    return [[pos] for _ in input_names(op, n_layers, momentum)]  # relu, sgd: element-wise; batch, end: none


def _run(first: int, count: int) -> list[int]:
    return list(range(first, first + count))


# ------------------------------------------------------------------------------------------------ openings


def tensor_leaf_hashes(t: torch.Tensor) -> list[bytes]:
    return [merkle.leaf_hash(leaf) for leaf in commit.tensor_leaves(t)]


def chunk_data(t: torch.Tensor, chunk: int) -> bytes:
    """The values of chunk ``chunk`` as int64 little-endian (what ``revealChunk`` sends)."""
    return t.detach().cpu().flatten()[chunk * CHUNK : (chunk + 1) * CHUNK].numpy().astype("<i8").tobytes()


def chunk_values(data: bytes) -> list[int]:
    return [int.from_bytes(data[k : k + 8], "little", signed=True) for k in range(0, len(data), 8)]


def chunk_openings(t: torch.Tensor, positions: Sequence[int]) -> Openings:
    """The distinct chunks holding ``positions`` (increasing), their data and proofs in ``t``'s commitment."""
    leaves = commit.tensor_leaves(t)
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    chunks = sorted({p // CHUNK for p in positions})
    return chunks, [leaves[c + 1][8:] for c in chunks], [merkle.proof_from_hashes(hashes, c + 1) for c in chunks]


def _opened_values(openings: Openings, commitment: bytes, size: int, positions: Sequence[int]) -> list[int]:
    """The values at ``positions``, read from chunks checked against ``commitment`` (as the contract reads them)."""
    indices, datas, proofs = openings
    count = 1 + (size + CHUNK - 1) // CHUNK
    if any(b <= a for a, b in itertools.pairwise(indices)):
        raise ValueError("opened chunks are not in increasing order")
    for c, d, proof in zip(indices, datas, proofs, strict=True):
        if not merkle.verify(merkle.indexed(c + 1, d), c + 1, count, proof, commitment):
            raise ValueError(f"chunk {c} does not verify")
    chunks = dict(zip(indices, datas, strict=False))
    if any(p >= size or p // CHUNK not in chunks for p in positions):
        raise ValueError("a position is outside the tensor or its chunk is not opened")
    return [chunk_values(chunks[p // CHUNK])[p % CHUNK] for p in positions]


# ------------------------------------------------------------------------------------------------ moves


def reveal_op_args(
    prev_values: list[bytes], next_values: list[bytes], next_live: Mapping[str, torch.Tensor], op: Op,
    n_layers: int, momentum: bool,
) -> tuple[list[bytes], list[bytes], list[list[bytes]]]:
    """``revealOp``: both states' slot values and the leaf hashes of every tensor the op computes."""
    return prev_values, next_values, [tensor_leaf_hashes(next_live[n]) for n in output_names(op, n_layers, momentum)]


def check_transition(
    prev_values: Sequence[bytes], next_values: Sequence[bytes], output_hashes: Sequence[Sequence[bytes]], op: Op,
    layers: Sequence[int], batch_size: int, momentum: bool,
) -> None:
    """What ``revealOp`` checks (the twin of ``OneStep.checkTransition``); raises ValueError naming the fault."""
    n_layers = len(layers) - 1
    if not len(prev_values) == len(next_values) == commit.n_slots(n_layers):
        raise ValueError("wrong number of slots")
    outs, cleared = output_slots(op, n_layers, momentum), set(cleared_slots(op, n_layers))
    for s, (a, b) in enumerate(zip(prev_values, next_values, strict=True)):
        if s == 0 and op.kind == "end":
            ok = int.from_bytes(b, "big") == int.from_bytes(a, "big") + 1
        else:
            ok = s in outs or (b == commit.EMPTY if s in cleared else a == b)
        if not ok:
            raise ValueError(f"slot {s} may not change this way under {op.name}")
    if len(output_hashes) != len(outs):
        raise ValueError("one leaf-hash list per computed tensor")
    for name, hashes, slot in zip(output_names(op, n_layers, momentum), output_hashes, outs, strict=True):
        _check_output(name, hashes, next_values[slot], layers, batch_size)


def _check_output(name: str, hashes: Sequence[bytes], value: bytes, layers: Sequence[int], batch_size: int) -> None:
    shape = slot_shape(name, layers, batch_size)
    header = merkle.leaf_hash(merkle.indexed(0, commit.tensor_header(torch.empty(shape, dtype=torch.int64))))
    count = 1 + (_size(name, layers, batch_size) + CHUNK - 1) // CHUNK
    if len(hashes) != count or hashes[0] != header or merkle.root_of_hashes(hashes) != value:
        raise ValueError(f"the leaf hashes of {name} do not match its commitment, count or header")


def first_difference(mine: Sequence[bytes], theirs: Sequence[bytes]) -> int:
    """The first chunk whose leaf hash differs (the header leaf is checked by the contract)."""
    if len(mine) != len(theirs):
        raise ValueError("the two tensors have different chunk counts")
    for i in range(1, len(mine)):
        if mine[i] != theirs[i]:
            return i - 1
    raise ValueError("no chunk differs")


def find_dispute(mine: Sequence[Sequence[bytes]], theirs: Sequence[Sequence[bytes]]) -> tuple[int, int]:
    """(output index, chunk) of the first difference between my and the solver's revealed leaf-hash lists."""
    for k, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        if list(a) != list(b):
            return k, first_difference(a, b)
    raise ValueError("every computed tensor agrees")


def name_chunk_args(theirs: Sequence[Sequence[bytes]], out_index: int, chunk: int) -> tuple[int, int, list[bytes]]:
    """``nameChunk``: the output, the chunk and the proof of its leaf hash in the solver's tensor."""
    return out_index, chunk, merkle.proof_from_hashes(theirs[out_index], chunk + 1)


def differing_element(mine: Sequence[int], theirs: Sequence[int]) -> int:
    """The first element of a chunk where my values and the solver's revealed ones differ."""
    if len(mine) != len(theirs):
        raise ValueError("chunks of different lengths")
    for e, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        if a != b:
            return e
    raise ValueError("the chunks agree")


def _row_args(cfg: TrainConfig, data: Dataset, step: int, out_index: int, pos: int) -> Row:
    b = pos // cfg.layers[0] if out_index == 0 else pos
    i = int(batch_indices(cfg.seed, step, cfg.batch_size, len(data.train_index))[b])
    return (i, *data_row_proof(data, i))


def _check_position(cfg: TrainConfig, op: Op, out_index: int, pos: int) -> None:
    names = output_names(op, len(cfg.layers) - 1, bool(cfg.momentum_fixed))
    if not (0 <= out_index < len(names) and 0 <= pos < _size(names[out_index], cfg.layers, cfg.batch_size)):
        raise ValueError(f"{op.name} has no output value ({out_index}, {pos})")


def prove_element_args(
    cfg: TrainConfig, data: Dataset, prev_step: int, prev_live: Mapping[str, torch.Tensor], op: Op,
    out_index: int, chunk: int, element: int,
) -> dict[str, Any]:
    """``proveElement``: the query, the agreed state's slot values, the input openings and (batch) the data row."""
    n_layers, momentum, pos = len(cfg.layers) - 1, bool(cfg.momentum_fixed), chunk * CHUNK + element
    _check_position(cfg, op, out_index, pos)
    positions = gather_positions(op, n_layers, cfg.layers, cfg.batch_size, out_index, pos, momentum=momentum)
    names = input_names(op, n_layers, momentum)
    return {
        "query": (prev_step, op.index, out_index, pos),
        "prev_values": commit.machine_values(prev_step, prev_live, n_layers),
        "inputs": [chunk_openings(prev_live[n], p) for n, p in zip(names, positions, strict=True)],
        "row": _row_args(cfg, data, prev_step, out_index, pos) if op.kind == "batch" else NO_ROW,
    }


# ------------------------------------------------------------------------------------------------ reference


def expected_element(
    cfg: TrainConfig, data: Dataset, prev_step: int, prev_live: Mapping[str, torch.Tensor], op: Op,
    out_index: int, flat_pos: int,
) -> int:
    """Output ``flat_pos`` of output ``out_index`` of op ``op``, recomputed as the contract does it."""
    args = prove_element_args(cfg, data, prev_step, prev_live, op, out_index, flat_pos // CHUNK, flat_pos % CHUNK)
    return element_from_args(cfg, data_root(data), len(data.train_index), op, args)


def element_from_args(cfg: TrainConfig, root_of_data: bytes, n_train: int, op: Op, args: Mapping[str, Any]) -> int:
    """The twin of ``OneStep.expectedValue``: one output value from the ``proveElement`` arguments alone, every
    opening checked against the agreed state (ValueError when one does not verify)."""
    step, _, out_index, pos = args["query"]
    _check_position(cfg, op, out_index, pos)
    if op.kind == "batch":
        return _batch_value(cfg, root_of_data, n_train, step, out_index, pos, args["row"])
    n_layers, momentum = len(cfg.layers) - 1, bool(cfg.momentum_fixed)
    names = input_names(op, n_layers, momentum)
    positions = gather_positions(op, n_layers, cfg.layers, cfg.batch_size, out_index, pos, momentum=momentum)
    prev, inputs = args["prev_values"], args["inputs"]
    if len(inputs) != len(names):
        raise ValueError(f"{op.name} reads {len(names)} tensors, {len(inputs)} opened")
    vals = [
        _opened_values(o, prev[commit.slot_of(n, n_layers)], _size(n, cfg.layers, cfg.batch_size), p)
        for n, o, p in zip(names, inputs, positions, strict=False)
    ]
    return _compute(cfg, op, out_index, pos, vals)


def _batch_value(cfg: TrainConfig, root_of_data: bytes, n_train: int, step: int, out_index: int, pos: int,
                 row: Row) -> int:
    index, label, features, proof = row
    w0 = cfg.layers[0]
    b = pos // w0 if out_index == 0 else pos
    leaf = merkle.indexed(index, label.to_bytes(8, "big") + features)
    drawn = int(batch_indices(cfg.seed, step, cfg.batch_size, n_train)[b])
    if index != drawn or len(features) != 8 * w0 or not merkle.verify(leaf, index, n_train, proof, root_of_data):
        raise ValueError(f"row {index} is not the batch's row {b} of the data")
    return chunk_values(features)[pos % w0] if out_index == 0 else label


def _t(values: Sequence[int] | int) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.int64)


def _dot(x: Sequence[int], y: Sequence[int]) -> torch.Tensor:
    return (_t(x) * _t(y)).sum()


def _compute(cfg: TrainConfig, op: Op, out_index: int, pos: int, vals: list[list[int]]) -> int:
    """One output from the gathered input values, by the runtime's rounding rules."""
    kind = op.kind
    if kind == "linear":
        return int(clamp(rshift_round(_dot(vals[0], vals[1])) + vals[2][0]))
    if kind == "relu":
        return max(vals[0][0], 0)
    if kind == "softmax_xent_grad":
        c = pos % cfg.layers[-1]
        return int(softmax(_t(vals[0]))[c]) - (ONE if vals[1][0] == c else 0)
    if kind == "grad_weight":
        return int(clamp(rshift_round(_dot(vals[0], vals[1]))))
    if kind == "grad_bias":
        return int(clamp(_t(vals[0]).sum()))
    if kind == "grad_input":
        return int(clamp(rshift_round(_dot(vals[0], vals[1])))) if vals[2][0] > 0 else 0
    return _sgd(cfg, out_index, [v[0] for v in vals])


def _sgd(cfg: TrainConfig, out_index: int, vals: list[int]) -> int:
    w, grad = _t(vals[0]), _t(vals[1])
    v = clamp(rshift_round(cfg.momentum_fixed * _t(vals[2])) + grad, MOMENTUM_CLAMP) if cfg.momentum_fixed else grad
    return int(v) if out_index == 1 else int(clamp(w - div_round(cfg.lr_fixed * v, cfg.batch_size * ONE)))
