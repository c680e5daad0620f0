"""The exact runtime: bit-reproducible fixed-point training (see docs/runtime.md)."""

from trainyard.runtime.commit import interior_root, state_digest, tensor_commitment, trace_leaf, trace_root
from trainyard.runtime.data import Dataset, digits_dataset
from trainyard.runtime.fixed import OverflowDetected
from trainyard.runtime.model import (
    RuntimeConfigError,
    State,
    TrainConfig,
    evaluate,
    export_float_state_dict,
    float_module,
    init_state,
    load_checkpoint,
    save_checkpoint,
    train,
    train_float32,
    validate_config,
)

__all__ = [
    "Dataset",
    "OverflowDetected",
    "RuntimeConfigError",
    "State",
    "TrainConfig",
    "digits_dataset",
    "evaluate",
    "export_float_state_dict",
    "float_module",
    "init_state",
    "interior_root",
    "load_checkpoint",
    "save_checkpoint",
    "state_digest",
    "tensor_commitment",
    "trace_leaf",
    "trace_root",
    "train",
    "train_float32",
    "validate_config",
]
