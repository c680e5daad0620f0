"""Run a training program: one step, op by op, with the runtime's own op functions.

Slots are a list of int64 tensors (or None for an empty slot), indexed by slot number. At the start of a step the
parameter and optimizer slots hold the state and every input and intermediate slot is empty; each op writes its
output slot and leaves every other slot as it was; at the end :func:`run_step` empties the input and intermediate
slots again. The arithmetic of every op kind is a function of :mod:`trainyard.runtime.model` (the one
:func:`~trainyard.runtime.model.step_ops` trains with), called with the op's params; nothing is restated here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence

import torch

from trainyard.errors import ProgramError
from trainyard.program.format import Op, OpKind, Program, Role, validate
from trainyard.runtime import model
from trainyard.runtime.fixed import CLAMP

Slots = list[torch.Tensor | None]
_Exec = Callable[[Op, Sequence[torch.Tensor], torch.Tensor, torch.Tensor, str], torch.Tensor]


# Each executor: (op, its input tensors, the batch's features and labels, matmul path) -> the output tensor.
def _load_features(op: Op, ins: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                   path: str) -> torch.Tensor:
    return x


def _load_labels(op: Op, ins: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor, path: str) -> torch.Tensor:
    return y


def _linear(op: Op, ins: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor, path: str) -> torch.Tensor:
    shift, bound = op.params
    return model.linear(ins[0], ins[1], ins[2], path, shift, bound)


def _relu(op: Op, ins: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor, path: str) -> torch.Tensor:
    return model.relu(ins[0])


def _softmax_xent_grad(op: Op, ins: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                       path: str) -> torch.Tensor:
    z, labels = ins
    if labels.numel() and not (int(labels.min()) >= 0 and int(labels.max()) < z.shape[1]):
        raise ProgramError(f"labels must lie in 0..{z.shape[1] - 1} (the logits' classes), got "
                           f"{int(labels.min())}..{int(labels.max())}")
    return model.softmax_xent_grad(z, labels)


def _grad_weight(op: Op, ins: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor, path: str) -> torch.Tensor:
    shift, bound = op.params
    return model.linear_grad_weight(ins[0], ins[1], path, shift, bound)


def _grad_bias(op: Op, ins: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor, path: str) -> torch.Tensor:
    (bound,) = op.params
    return model.linear_grad_bias(ins[0], bound)


def _grad_input(op: Op, ins: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor, path: str) -> torch.Tensor:
    shift, bound = op.params
    return model.linear_grad_input(ins[0], ins[1], ins[2], path, shift, bound)


def _momentum(op: Op, ins: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor, path: str) -> torch.Tensor:
    mu, shift, bound = op.params
    return model.momentum_update(ins[0], ins[1], mu, shift, bound)


def _sgd(op: Op, ins: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor, path: str) -> torch.Tensor:
    lr, divisor, bound = op.params
    return model.sgd_update(ins[0], ins[1], lr, divisor, bound)


_EXEC: dict[OpKind, _Exec] = {
    OpKind.LOAD_FEATURES: _load_features,
    OpKind.LOAD_LABELS: _load_labels,
    OpKind.LINEAR: _linear,
    OpKind.RELU: _relu,
    OpKind.SOFTMAX_XENT_GRAD: _softmax_xent_grad,
    OpKind.LINEAR_GRAD_WEIGHT: _grad_weight,
    OpKind.LINEAR_GRAD_BIAS: _grad_bias,
    OpKind.LINEAR_GRAD_INPUT: _grad_input,
    OpKind.MOMENTUM: _momentum,
    OpKind.SGD: _sgd,
}

_STATE_ROLES = (Role.PARAMETER, Role.OPTIMIZER)


@functools.lru_cache(maxsize=16)
def _validate_once(program: Program) -> None:
    validate(program)


def _validated(program: Program) -> None:
    """validate(), once per program value: a program is frozen and hashable, and validating the digits MLP's
    program takes about 1.4 ms (measured), which every step would otherwise pay."""
    try:
        hash(program)
    except TypeError:  # a list where the dataclasses say tuple: still a program, validated every time
        validate(program)
        return
    _validate_once(program)


def _check_start(program: Program, slots: Sequence[torch.Tensor | None], features: torch.Tensor,
                 labels: torch.Tensor) -> None:
    if len(slots) != len(program.slots):
        raise ProgramError(f"the program has {len(program.slots)} slots, got {len(slots)} values")
    for i, (decl, t) in enumerate(zip(program.slots, slots, strict=True)):
        if decl.role in _STATE_ROLES:
            if t is None or t.dtype != torch.int64 or tuple(t.shape) != decl.shape:
                got = "nothing" if t is None else f"{t.dtype} {tuple(t.shape)}"
                raise ProgramError(f"slot {i} ({decl.name}) must hold int64 {decl.shape} at the start of a step, "
                                   f"got {got}")
        elif t is not None:
            raise ProgramError(f"slot {i} ({decl.name}) is a {decl.role.name.lower()} slot: it must be empty "
                               "at the start of a step")
    for what, t in (("features", features), ("labels", labels)):
        if t.dtype != torch.int64:
            raise ProgramError(f"the batch's {what} must be int64, got {t.dtype}")
    if features.numel() and int(features.abs().max()) > CLAMP:
        raise ProgramError(f"the batch's features must lie within ±{CLAMP} (±16.0), as to_fixed makes them")


def run_ops(program: Program, slots: Sequence[torch.Tensor | None], features: torch.Tensor, labels: torch.Tensor,
            matmul_path: str = "auto") -> Iterator[tuple[int, Slots]]:
    """Validate ``program``, then run its ops from ``slots`` (the state: not modified) and the step's batch
    (``features`` [B, d] fixed point, ``labels`` [B]); yield (op index, slots) after each op. The yielded list is
    the interpreter's own and changes as it runs on: copy what you keep."""
    _validated(program)
    _check_start(program, slots, features, labels)
    live: Slots = list(slots)
    for j, op in enumerate(program.ops):
        ins = [live[s] for s in op.inputs]
        assert all(t is not None for t in ins)  # validate: every input is written before it is read
        out = _EXEC[op.kind](op, [t for t in ins if t is not None], features, labels, matmul_path)
        if tuple(out.shape) != op.shape:
            raise ProgramError(f"op {j} ({op.kind.name.lower()}) made shape {tuple(out.shape)}, the program "
                               f"says {op.shape} (the batch does not fit the program)")
        live[op.output] = out
        yield j, live


def run_step(program: Program, slots: Sequence[torch.Tensor | None], features: torch.Tensor, labels: torch.Tensor,
             matmul_path: str = "auto") -> Slots:
    """One step: the next state's slots (parameters and optimizer state; every other slot empty)."""
    live: Slots = list(slots)
    for _, after in run_ops(program, slots, features, labels, matmul_path):
        live = after
    return [t if decl.role in _STATE_ROLES else None for decl, t in zip(program.slots, live, strict=True)]


def slots_from_tensors(program: Program, tensors: Mapping[str, torch.Tensor]) -> Slots:
    """Slots from named tensors (the names of the program's slots; an absent name is an empty slot)."""
    return [tensors.get(s.name) for s in program.slots]


def tensors_from_slots(program: Program, slots: Sequence[torch.Tensor | None]) -> dict[str, torch.Tensor]:
    """The non-empty slots by name."""
    return {s.name: t for s, t in zip(program.slots, slots, strict=True) if t is not None}
