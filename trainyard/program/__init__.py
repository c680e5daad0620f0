"""The training program: one training step stated as data (ops over numbered tensor slots), content-addressed
(see docs/runtime.md, "The training program")."""

from trainyard.program.format import (
    ENTRY_SIZE,
    Header,
    Op,
    OpKind,
    Program,
    Role,
    Slot,
    make_program,
    measure,
    program_root,
    validate,
)
from trainyard.program.interpreter import run_ops, run_step, slots_from_tensors, tensors_from_slots
from trainyard.program.mlp import mlp_program, optrace_groups, program_for_config

__all__ = [
    "ENTRY_SIZE", "Header", "Op", "OpKind", "Program", "Role", "Slot", "make_program", "measure", "mlp_program",
    "optrace_groups", "program_for_config", "program_root", "run_ops", "run_step", "slots_from_tensors",
    "tensors_from_slots", "validate",
]
