"""The spec core: the abi encoding of the Solidity struct (round trip, keccak), the data root and its row proofs,
and the core a solver rebuilds from the document, the configuration and the data."""

import eth_abi
import numpy as np
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from trainyard import merkle
from trainyard import runtime as rt
from trainyard.spec_core import ABI_TYPE, SpecCore, core_from, data_leaves, data_root, data_row_proof

_b32 = st.binary(min_size=32, max_size=32)
_u32 = st.integers(0, 2**32 - 1)
cores = st.builds(
    SpecCore, doc_hash=_b32, initial_root=_b32, data_root=_b32, n_train=_u32, batch_size=_u32,
    checkpoint_interval=_u32, seed=st.integers(0, 2**64 - 1), lr=st.integers(-(2**63), 2**63 - 1),
    momentum=st.integers(-(2**63), 2**63 - 1), layers=st.lists(_u32, max_size=6).map(tuple),
)


@settings(max_examples=100, deadline=None)
@given(cores)
def test_abi_encoding_round_trips(core):
    enc = core.encode()
    assert enc == eth_abi.encode([ABI_TYPE], [core.abi_tuple()])
    (decoded,) = eth_abi.decode([ABI_TYPE], enc)
    assert decoded[:9] == core.abi_tuple()[:9] and list(decoded[9]) == list(core.layers)
    assert SpecCore.decode(enc) == core
    assert core.spec_hash() == keccak(enc)
    # abi.encode of a struct with a dynamic member: one head word (the offset 0x20), then the tuple
    assert int.from_bytes(enc[:32], "big") == 32 and len(enc) == 32 * (1 + 10 + 1 + len(core.layers))


def test_every_field_changes_the_hash():
    core = SpecCore(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, 100, 8, 5, 7, 3277, 58982, (64, 16, 10))
    fields = {"doc_hash": b"\x09" * 32, "initial_root": b"\x09" * 32, "data_root": b"\x09" * 32, "n_train": 101,
              "batch_size": 9, "checkpoint_interval": 6, "seed": 8, "lr": 3278, "momentum": 0, "layers": (64, 16, 9)}
    hashes = {SpecCore(**{**core.__dict__, k: v}).spec_hash() for k, v in fields.items()}
    assert len(hashes) == len(fields) and core.spec_hash() not in hashes


def _small_dataset():
    rng = np.random.default_rng(0)
    x = rng.integers(-(2**20), 2**20, size=(37, 5))
    y = rng.integers(0, 3, size=37)
    return rt.Dataset.from_arrays(x, y, np.arange(37) % 4 == 1)


def test_data_leaves_are_the_training_rows_in_order():
    data = _small_dataset()
    train = data.train_index.tolist()
    leaves = data_leaves(data)
    assert len(leaves) == len(train) == 28
    for i in (0, 5, 27):
        row = train[i]
        payload = int(data.y[row]).to_bytes(8, "big") + data.x[row].numpy().astype("<i8").tobytes()
        assert leaves[i] == i.to_bytes(8, "big") + payload
    assert data_root(data) == merkle.root(leaves)


def test_data_row_proofs_verify():
    data = _small_dataset()
    root, n = data_root(data), len(data.train_index)
    for i in range(n):
        label, features, proof = data_row_proof(data, i)
        row = int(data.train_index[i])
        assert label == int(data.y[row]) and len(features) == 8 * 5
        assert np.frombuffer(features, dtype="<i8").tolist() == data.x[row].tolist()
        leaf = merkle.indexed(i, label.to_bytes(8, "big") + features)
        assert merkle.verify(leaf, i, n, proof, root)
        assert not merkle.verify(merkle.indexed(i, (label + 1).to_bytes(8, "big") + features), i, n, proof, root)
        assert not merkle.verify(leaf, (i + 1) % n, n, proof, root)


def test_core_from_document_config_and_data():
    data = rt.digits_dataset()
    cfg = rt.TrainConfig(layers=(64, 16, 10), learning_rate=0.05, batch_size=8, steps=20, checkpoint_interval=5,
                         seed=2**40 + 3, momentum=0.9)
    doc = b'{"name":"x"}'
    core = core_from(doc, cfg, data)
    assert core.doc_hash == keccak(doc)
    assert core.initial_root == rt.init_state(cfg, data).root()
    assert core.data_root == data_root(data)
    assert (core.n_train, core.batch_size, core.checkpoint_interval) == (len(data.train_index), 8, 5)
    assert (core.seed, core.lr, core.momentum, core.layers) == (2**40 + 3, 3277, 58982, (64, 16, 10))
    plain = core_from(doc, rt.TrainConfig(**{**cfg.__dict__, "momentum": 0.0}), data)
    assert plain.momentum == 0 and plain.initial_root != core.initial_root  # momentum slots empty without it
    assert SpecCore.decode(core.encode()) == core
