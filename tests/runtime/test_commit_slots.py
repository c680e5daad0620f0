"""State roots in the slot layout of docs/disputes.md: S = 9L + 3 slots, fixed positions, empty slots zero; the
state root is the machine root with every intermediate slot empty; trace leaves bind window, root and CID."""

import hashlib

import pytest
import torch

from trainyard import merkle
from trainyard import runtime as rt
from trainyard.runtime import commit


def test_slot_table_of_the_spec():
    for n in (1, 2, 3, 5):
        names = commit.slot_names(n)
        assert len(names) == commit.n_slots(n) == 9 * n + 3 == len(set(names))
        assert names[0] == "step" and commit.slot_of("step", n) == 0
        for l in range(n):
            assert commit.slot_of(f"l{l}.weight", n) == 1 + 4 * l
            assert commit.slot_of(f"l{l}.bias", n) == 2 + 4 * l
            assert commit.slot_of(f"l{l}.weight.momentum", n) == 3 + 4 * l
            assert commit.slot_of(f"l{l}.bias.momentum", n) == 4 + 4 * l
            assert commit.slot_of(f"z{l}", n) == 4 * n + 3 + 5 * l
            assert commit.slot_of(f"a{l + 1}", n) == 4 * n + 4 + 5 * l
            assert commit.slot_of(f"g{l}", n) == 4 * n + 5 + 5 * l
            assert commit.slot_of(f"l{l}.weight.grad", n) == 4 * n + 6 + 5 * l
            assert commit.slot_of(f"l{l}.bias.grad", n) == 4 * n + 7 + 5 * l
        assert commit.slot_of("a0", n) == 4 * n + 1 and commit.slot_of("y", n) == 4 * n + 2
        assert all(commit.slot_of(name, n) == i for i, name in enumerate(names))
    with pytest.raises(ValueError):
        commit.slot_of("z2", 2)
    commit.slot_names(2).append("mutated")  # a copy: the table stays as it is
    assert len(commit.slot_names(2)) == 21


def test_machine_values_step_commitments_and_empty_slots():
    w = torch.arange(6, dtype=torch.int64).reshape(3, 2)
    values = commit.machine_values(5, {"l0.weight": w, "y": torch.tensor([1, 0])}, 1)
    assert len(values) == 12
    assert values[0] == (5).to_bytes(32, "big")
    assert values[1] == commit.tensor_commitment(w)
    assert values[6] == commit.tensor_commitment(torch.tensor([1, 0]))
    assert all(values[i] == bytes(32) for i in range(12) if i not in (0, 1, 6))
    leaves = commit.machine_leaves(values)
    assert leaves[6] == (6).to_bytes(8, "big") + values[6]
    assert commit.machine_root(values) == merkle.root(leaves)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_state_root_is_the_slot_root(momentum):
    data = rt.digits_dataset()
    cfg = rt.TrainConfig(layers=(64, 16, 12, 10), learning_rate=0.05, batch_size=8, steps=2, checkpoint_interval=1,
                         seed=4, momentum=momentum)
    state = rt.train(cfg, data, rt.init_state(cfg, data), 1)
    values = commit.machine_values(state.step, state.tensors, 3)
    assert state.root() == commit.state_root(1, state.tensors) == commit.machine_root(values)
    assert commit.state_leaves(1, state.tensors) == commit.machine_leaves(values)
    assert values[0] == (1).to_bytes(32, "big")
    for l in range(3):
        assert values[1 + 4 * l] == commit.tensor_commitment(state.weight(l))
        assert values[2 + 4 * l] == commit.tensor_commitment(state.bias(l))
        assert (values[3 + 4 * l] == bytes(32)) == (momentum == 0.0)
    assert all(v == bytes(32) for v in values[commit.slot_of("a0", 3):])
    assert commit.state_root(2, state.tensors) != state.root()  # the step is committed


def test_state_root_needs_contiguous_weights():
    w = torch.zeros(2, 2, dtype=torch.int64)
    with pytest.raises(ValueError):
        commit.state_root(0, {"l1.weight": w})


def test_trace_leaf_binds_window_root_cid_and_interior():
    root, interior = bytes(range(32)), bytes(range(32, 64))
    leaf = commit.trace_leaf(3, root, "bafkcid", interior)
    assert leaf == (3).to_bytes(8, "big") + root + hashlib.sha256(b"bafkcid").digest() + interior
    assert rt.trace_leaf(3, root, "bafkcid", interior) == leaf


def test_interior_root_is_over_index_bound_digests():
    digests = [bytes([i]) * 32 for i in range(5)]
    assert commit.interior_root(digests) == merkle.root([merkle.indexed(j, d) for j, d in enumerate(digests)])
