"""The spec core: what fixes a job's training on chain (docs/disputes.md, "Spec core" and "Dataset").

The job's ``specHash`` is ``keccak256(abi.encode(SpecCore))``; the core names the canonical spec document by its
keccak256, the initial state by its root and the training rows by their Merkle root, so the dispute game can check
a batch row and start from an agreed state without trusting the submitter. A solver rebuilds the core from the
document and the data (:func:`core_from`) before it bids.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from trainyard import merkle
from trainyard.runtime.data import Dataset
from trainyard.runtime.model import TrainConfig, init_state
from trainyard.spec import spec_hash

ABI_TYPE = "(bytes32,bytes32,bytes32,uint32,uint32,uint32,uint64,int64,int64,uint32[])"
AbiTuple = tuple[bytes, bytes, bytes, int, int, int, int, int, int, list[int]]


@dataclass(frozen=True)
class SpecCore:
    doc_hash: bytes  # keccak256 of the canonical spec JSON
    initial_root: bytes  # state root of step 0
    data_root: bytes  # Merkle root of the training rows
    n_train: int
    batch_size: int
    checkpoint_interval: int
    seed: int
    lr: int  # round(lr · 2^16)
    momentum: int  # round(μ · 2^16), 0 for plain SGD
    layers: tuple[int, ...]

    def abi_tuple(self) -> AbiTuple:
        """The value eth_abi encodes as :data:`ABI_TYPE` (the Solidity struct's field order)."""
        return (self.doc_hash, self.initial_root, self.data_root, self.n_train, self.batch_size,
                self.checkpoint_interval, self.seed, self.lr, self.momentum, list(self.layers))

    def encode(self) -> bytes:
        """``abi.encode(core)``."""
        return encode([ABI_TYPE], [self.abi_tuple()])

    @classmethod
    def decode(cls, data: bytes) -> SpecCore:
        (t,) = decode([ABI_TYPE], data)
        doc_hash, initial_root, root, n_train, batch_size, interval, seed, lr, momentum, layers = t
        return cls(doc_hash, initial_root, root, n_train, batch_size, interval, seed, lr, momentum, tuple(layers))

    def spec_hash(self) -> bytes:
        """``keccak256(abi.encode(core))``: the job's spec hash on chain."""
        return keccak(self.encode())


def _train_rows(dataset: Dataset) -> list[int]:
    return [int(i) for i in dataset.train_index.tolist()]


def data_row(dataset: Dataset, row: int) -> tuple[int, bytes]:
    """(label, features as int64 little-endian) of dataset row ``row`` (an index into the whole dataset)."""
    features = dataset.x[row].numpy().astype("<i8").tobytes()
    return int(dataset.y[row]), features


def data_leaves(dataset: Dataset) -> list[bytes]:
    """Leaf i: ``uint64_be(i) || uint64_be(label) || int64_le features…`` of training row i."""
    leaves = []
    for i, row in enumerate(_train_rows(dataset)):
        label, features = data_row(dataset, row)
        leaves.append(merkle.indexed(i, label.to_bytes(8, "big") + features))
    return leaves


def data_root(dataset: Dataset) -> bytes:
    return merkle.root(data_leaves(dataset))


def data_row_proof(dataset: Dataset, i: int) -> tuple[int, bytes, list[bytes]]:
    """(label, features bytes, inclusion proof) of training row i (a position in ``Dataset.train_index``)."""
    label, features = data_row(dataset, int(dataset.train_index[i]))
    return label, features, merkle.proof(data_leaves(dataset), i)


def core_from(doc_bytes: bytes, cfg: TrainConfig, dataset: Dataset) -> SpecCore:
    """The spec core of a job: its stored document, its training configuration and its data."""
    return SpecCore(
        doc_hash=spec_hash(doc_bytes), initial_root=init_state(cfg, dataset).root(), data_root=data_root(dataset),
        n_train=len(dataset.train_index), batch_size=cfg.batch_size, checkpoint_interval=cfg.checkpoint_interval,
        seed=cfg.seed, lr=cfg.lr_fixed, momentum=cfg.momentum_fixed, layers=tuple(cfg.layers),
    )
