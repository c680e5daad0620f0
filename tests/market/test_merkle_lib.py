"""The Solidity Merkle verifier accepts exactly the proofs the Python module makes (same RFC 9162 scheme)."""

import random

import pytest

from trainyard import merkle


@pytest.fixture(scope="module")
def harness(MerkleHarness, accounts):
    return MerkleHarness.deploy({"from": accounts[0]})


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 100])
def test_python_proofs_verify_on_chain(harness, n):
    rng = random.Random(n)
    leaves = [merkle.indexed(i, rng.randbytes(rng.randint(0, 80))) for i in range(n)]
    root = merkle.root(leaves)
    for i in sorted({0, n // 2, n - 1}):
        proof = merkle.proof(leaves, i)
        assert harness.verify(leaves[i], i, n, proof, root)
        assert harness.verifyIndexed(leaves[i][8:], i, n, proof, root)


def test_tampered_or_misplaced_proofs_fail_on_chain(harness):
    rng = random.Random(1)
    leaves = [merkle.indexed(i, rng.randbytes(32)) for i in range(13)]
    root = merkle.root(leaves)
    proof = merkle.proof(leaves, 6)
    assert not harness.verify(leaves[6] + b"x", 6, 13, proof, root)
    bad = list(proof)
    bad[1] = bytes(32)
    assert not harness.verify(leaves[6], 6, 13, bad, root)
    assert not harness.verify(leaves[6], 7, 13, proof, root)  # the index is bound
    assert not harness.verify(leaves[6], 6, 7, proof, root)  # (the size is not in the root: callers fix it)
    assert not harness.verify(leaves[6], 6, 13, proof[:-1], root)
    assert not harness.verify(leaves[6], 13, 13, proof, root)


def test_inner_node_is_not_a_leaf_on_chain(harness):
    leaves = [merkle.indexed(i, bytes([i])) for i in range(4)]
    root = merkle.root(leaves)
    forged = merkle.leaf_hash(leaves[0]) + merkle.leaf_hash(leaves[1])
    right = merkle.node_hash(merkle.leaf_hash(leaves[2]), merkle.leaf_hash(leaves[3]))
    assert not harness.verify(forged, 0, 2, [right], root)


def test_verification_gas_is_logarithmic(harness):
    leaves = [merkle.indexed(i, bytes(64)) for i in range(1 << 10)]
    root = merkle.root(leaves)
    ok, gas = harness.verifyGas(leaves[5], 5, len(leaves), merkle.proof(leaves, 5), root)
    assert ok
    print(f"merkle_verify_gas_1024_leaves: {gas}")
