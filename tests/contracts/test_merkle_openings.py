"""TrainyardMerkle on Anvil against the Python module: random trees (hypothesis), and the two-level opening the
one-step proof reveals (a tensor chunk under its commitment, the commitment under a machine-state root)."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainyard import merkle
from trainyard import runtime as rt
from trainyard.runtime import commit
from trainyard.runtime.model import step_ops
from trainyard.runtime.optrace import open_chunk, open_tensor, trace_step


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
    # replay to the op after the first linear layer and open chunk 1 of z0 (the layer's output)
    work = rt.State(state.step, state.layers, {k: v.clone() for k, v in state.tensors.items()})
    for op, live in step_ops(cfg, data, work):
        if op == "linear0":
            break
    rec = next(r for r in records if r.op == "linear0")
    z = live["z0"]
    leaf, proof, size = open_chunk(z, 1)
    c = commit.tensor_commitment(z)
    assert c == rec.commitments["z0"]
    assert harness.verify(leaf, 2, size, proof, c)
    tleaf, tproof, tsize = open_tensor(work.step, live, "z0")
    assert tleaf[-32:] == c and tleaf[8:40] == hashlib.sha256(b"z0").digest()
    idx = sorted(live).index("z0") + 1
    assert harness.verify(tleaf, idx, tsize, tproof, rec.root)
    assert not harness.verify(tleaf, idx, tsize, tproof, records[0].root)  # not under the pre-op root
