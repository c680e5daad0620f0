"""TrainyardMerkle on Anvil against the Python module: random trees (hypothesis), and the two-level opening the
one-step proof reveals (a tensor chunk under its commitment, the commitment in its slot of a machine-state
root)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainyard import merkle
from trainyard import runtime as rt
from trainyard.runtime import commit
from trainyard.runtime.optrace import machine_tensors, open_chunk, open_slot, trace_step


@pytest.fixture(scope="module")
def harness(MerkleHarness, accounts):
    return MerkleHarness.deploy({"from": accounts[0]})


@settings(max_examples=25, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=40), st.data())
def test_random_tree_proof_verifies_and_flipped_byte_fails(harness, payloads, data):
    leaves = [merkle.indexed(i, p) for i, p in enumerate(payloads)]
    n = len(leaves)
    i = data.draw(st.integers(0, n - 1))
    root, proof = merkle.root(leaves), merkle.proof(leaves, i)
    assert harness.verify(leaves[i], i, n, proof, root)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = list(proof)
        bad[k] = bytes([bad[k][0] ^ 1]) + bad[k][1:]
        assert not harness.verify(leaves[i], i, n, bad, root)


def test_op_trace_chunk_opening_verifies_on_chain(harness):
    data = rt.digits_dataset()
    cfg = rt.TrainConfig(layers=(64, 16, 10), learning_rate=0.05, batch_size=8, steps=2, checkpoint_interval=1,
                         seed=5, momentum=0.9)
    state = rt.init_state(cfg, data)
    records, _ = trace_step(cfg, data, state)
    # the machine state after the first linear layer: open chunk 1 of z0 (the layer's output) and z0's slot
    rec = next(r for r in records if r.op == "linear0")
    _, live = machine_tensors(cfg, data, state, rec.index)
    z = live["z0"]
    leaf, proof, size = open_chunk(z, 1)
    c = commit.tensor_commitment(z)
    slot = commit.slot_of("z0", 2)
    assert c == rec.values[slot]
    assert harness.verify(leaf, 2, size, proof, c)
    tleaf, tproof, tsize = open_slot(rec.values, slot)
    assert tleaf == merkle.indexed(slot, c)
    assert harness.verify(tleaf, slot, tsize, tproof, rec.root)
    assert not harness.verify(tleaf, slot, tsize, tproof, records[0].root)  # not under the pre-op root
