"""Today's MLP as a training program: Linear → ReLU → … → Linear, softmax cross-entropy, SGD (± momentum).

:func:`mlp_program` states exactly the step of :func:`trainyard.runtime.model.step_ops` (the tests run both and
compare every tensor after every op group). Slots carry the names of ``step_ops``' live tensors (``l0.weight``,
``a0``, ``z0``, ``g0``, ``l0.weight.grad``, …), so a state's tensors map onto the program's slots by name.

:func:`optrace_groups` maps the program's ops onto today's op trace (:func:`trainyard.runtime.optrace.op_schedule`,
N = 7L + 1 ops): each trace op is one or more consecutive program ops (``batch`` = load features + load labels;
``sgd_…`` with momentum = momentum + SGD) or none (``end``, which only empties the step's intermediates).
"""

from __future__ import annotations

from collections.abc import Sequence

from trainyard.errors import ProgramError
from trainyard.program.format import Op, OpKind, Program, Role, Slot, make_program
from trainyard.runtime import optrace
from trainyard.runtime.fixed import CLAMP, FRAC, ONE
from trainyard.runtime.model import MOMENTUM_CLAMP, TrainConfig


def _build(widths: Sequence[int], batch_size: int, lr_fixed: int,
           momentum_fixed: int) -> tuple[list[Slot], list[tuple[str, Op]]]:
    """The slots, and the ops each with the name of the op-trace op it belongs to."""
    n = len(widths) - 1
    if n < 1:
        raise ProgramError(f"an MLP needs at least two widths (inputs and classes), got {tuple(widths)}")
    B = batch_size
    slots: list[Slot] = []
    index: dict[str, int] = {}

    def slot(name: str, role: Role, *shape: int) -> None:
        index[name] = len(slots)
        slots.append(Slot(role, tuple(shape), name))

    for l in range(n):
        slot(f"l{l}.weight", Role.PARAMETER, widths[l + 1], widths[l])
        slot(f"l{l}.bias", Role.PARAMETER, widths[l + 1])
    if momentum_fixed:
        for l in range(n):
            slot(f"l{l}.weight.momentum", Role.OPTIMIZER, widths[l + 1], widths[l])
            slot(f"l{l}.bias.momentum", Role.OPTIMIZER, widths[l + 1])
    slot("a0", Role.INPUT, B, widths[0])
    slot("y", Role.INPUT, B)
    for l in range(n):
        slot(f"z{l}", Role.INTERMEDIATE, B, widths[l + 1])
        if l < n - 1:
            slot(f"a{l + 1}", Role.INTERMEDIATE, B, widths[l + 1])
        slot(f"g{l}", Role.INTERMEDIATE, B, widths[l + 1])
        slot(f"l{l}.weight.grad", Role.INTERMEDIATE, widths[l + 1], widths[l])
        slot(f"l{l}.bias.grad", Role.INTERMEDIATE, widths[l + 1])

    ops: list[tuple[str, Op]] = []

    def op(trace: str, kind: OpKind, inputs: Sequence[str], output: str, *params: int) -> None:
        out = index[output]
        ops.append((trace, Op(kind, tuple(index[s] for s in inputs), out, slots[out].shape, params)))

    op("batch", OpKind.LOAD_FEATURES, (), "a0")
    op("batch", OpKind.LOAD_LABELS, (), "y")
    for l in range(n):
        op(f"linear{l}", OpKind.LINEAR, (f"a{l}", f"l{l}.weight", f"l{l}.bias"), f"z{l}", FRAC, CLAMP)
        if l < n - 1:
            op(f"relu{l}", OpKind.RELU, (f"z{l}",), f"a{l + 1}")
    op("softmax_xent_grad", OpKind.SOFTMAX_XENT_GRAD, (f"z{n - 1}", "y"), f"g{n - 1}")
    for l in range(n - 1, -1, -1):
        op(f"grad_weight{l}", OpKind.LINEAR_GRAD_WEIGHT, (f"g{l}", f"a{l}"), f"l{l}.weight.grad", FRAC, CLAMP)
        op(f"grad_bias{l}", OpKind.LINEAR_GRAD_BIAS, (f"g{l}",), f"l{l}.bias.grad", CLAMP)
        if l > 0:
            op(f"grad_input{l}", OpKind.LINEAR_GRAD_INPUT, (f"g{l}", f"l{l}.weight", f"z{l - 1}"), f"g{l - 1}",
               FRAC, CLAMP)
    for l in range(n):
        for name in (f"l{l}.weight", f"l{l}.bias"):
            update = name + ".grad"
            if momentum_fixed:
                op(f"sgd_{name}", OpKind.MOMENTUM, (name + ".momentum", update), name + ".momentum",
                   momentum_fixed, FRAC, MOMENTUM_CLAMP)
                update = name + ".momentum"
            op(f"sgd_{name}", OpKind.SGD, (name, update), name, lr_fixed, B * ONE, CLAMP)
    return slots, ops


def mlp_program(widths: Sequence[int], batch_size: int, lr_fixed: int, momentum_fixed: int = 0) -> Program:
    """The program of one step of the MLP ``widths`` (inputs, hidden…, classes) at batch size B, with the
    learning rate and momentum in fixed point (round(lr·2^16), round(μ·2^16); μ = 0: plain SGD, no optimizer
    slots). Raises :class:`~trainyard.errors.ProgramError` if the result breaks a program rule (a width or batch
    size above 4096, a learning rate outside 1..16·2^16, …)."""
    slots, ops = _build(widths, batch_size, lr_fixed, momentum_fixed)
    return make_program(slots, [o for _, o in ops])


def program_for_config(cfg: TrainConfig) -> Program:
    """:func:`mlp_program` of a training configuration."""
    return mlp_program(cfg.layers, cfg.batch_size, cfg.lr_fixed, cfg.momentum_fixed)


def optrace_groups(n_layers: int, momentum: bool) -> list[tuple[optrace.Op, tuple[int, ...]]]:
    """For each op of today's op trace of an MLP of ``n_layers`` layers (in order), the indices (0-based) of the
    program ops of :func:`mlp_program` that make it up (empty for ``end``). Widths, batch size and learning rate do
    not change the grouping; momentum does (with it, each ``sgd_…`` trace op is momentum + SGD)."""
    _, ops = _build([1] * (n_layers + 1), 1, 1, 1 if momentum else 0)
    groups: list[tuple[optrace.Op, tuple[int, ...]]] = []
    j = 0
    for top in optrace.op_schedule(n_layers):
        start = j
        while j < len(ops) and ops[j][0] == top.name:
            j += 1
        groups.append((top, tuple(range(start, j))))
    if j != len(ops):
        raise AssertionError(f"program op {j} ({ops[j][0]}) is in no op-trace op")
    return groups
