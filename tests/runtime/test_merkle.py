"""The Merkle scheme: proofs verify, tampering fails, leaves and nodes cannot be confused, and roots and
proofs equal those of pymerkle, an RFC 9162 implementation nobody here wrote."""

import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from trainyard import merkle

leaves_st = st.lists(st.binary(max_size=48), min_size=1, max_size=40)


def _pymerkle(leaves):
    tree = InmemoryTree(algorithm="sha256")
    for d in leaves:
        tree.append_entry(d)
    return tree


@settings(max_examples=60, deadline=None)
@given(leaves_st)
def test_root_and_proofs_match_pymerkle(leaves):
    tree = _pymerkle(leaves)
    assert merkle.root(leaves) == tree.get_root()
    for i in range(len(leaves)):
        theirs = [bytes.fromhex(h) for h in tree.prove_inclusion(i + 1).serialize()["path"]]
        # pymerkle's path starts with the leaf's own hash, then the siblings from the bottom up
        assert theirs[0] == merkle.leaf_hash(leaves[i])
        mine = merkle.proof(leaves, i)
        assert theirs[1:] == mine
        assert merkle.verify(leaves[i], i, len(leaves), mine, merkle.root(leaves))


def test_empty_tree_root_is_hash_of_nothing():
    assert merkle.root([]) == merkle.EMPTY_ROOT


@settings(max_examples=60, deadline=None)
@given(leaves_st, st.data())
def test_tampered_proofs_fail(leaves, data):
    n = len(leaves)
    i = data.draw(st.integers(0, n - 1))
    r = merkle.root(leaves)
    path = merkle.proof(leaves, i)
    assert not merkle.verify(leaves[i] + b"x", i, n, path, r)
    if path:
        k = data.draw(st.integers(0, len(path) - 1))
        bad = list(path)
        bad[k] = bytes([bad[k][0] ^ 1]) + bad[k][1:]
        assert not merkle.verify(leaves[i], i, n, bad, r)
        assert not merkle.verify(leaves[i], i, n, path[:-1], r)
    if n > 1:
        j = (i + 1) % n
        if merkle.proof(leaves, j) != path or leaves[i] != leaves[j]:
            assert not merkle.verify(leaves[i], j, n, path, r)


def test_inner_node_cannot_pass_as_leaf():
    leaves = [os.urandom(32) for _ in range(4)]
    left = merkle.node_hash(merkle.leaf_hash(leaves[0]), merkle.leaf_hash(leaves[1]))
    right = merkle.node_hash(merkle.leaf_hash(leaves[2]), merkle.leaf_hash(leaves[3]))
    r = merkle.root(leaves)
    assert r == merkle.node_hash(left, right)
    # claim the concatenation of the two children of the left node is a leaf of a 2-leaf tree
    forged = merkle.leaf_hash(leaves[0]) + merkle.leaf_hash(leaves[1])
    assert not merkle.verify(forged, 0, 2, [right], r)


def test_index_bound_leaves_cannot_move():
    payloads = [b"a", b"b", b"a"]
    leaves = [merkle.indexed(i, p) for i, p in enumerate(payloads)]
    r = merkle.root(leaves)
    p0 = merkle.proof(leaves, 0)
    assert merkle.verify(leaves[0], 0, 3, p0, r)
    assert not merkle.verify(merkle.indexed(2, b"a"), 0, 3, p0, r)


def test_out_of_range_index():
    with pytest.raises(IndexError):
        merkle.proof([b"a"], 1)
    assert not merkle.verify(b"a", 5, 1, [], merkle.root([b"a"]))


def test_large_random_tree():
    rng = random.Random(7)
    leaves = [rng.randbytes(16) for _ in range(1000)]
    r = merkle.root(leaves)
    assert r == _pymerkle(leaves).get_root()
    for i in (0, 511, 512, 999):
        assert merkle.verify(leaves[i], i, 1000, merkle.proof(leaves, i), r)
