"""One Merkle scheme for Python and Solidity: RFC 9162 (Certificate Transparency v2) trees over SHA-256.

- Leaf hash: ``sha256(0x00 || data)``; inner node: ``sha256(0x01 || left || right)`` (domain separation: a leaf
  can never pass for a node or the other way round).
- A tree of n > 1 leaves splits at k, the largest power of two below n: ``MTH(D[n]) = node(MTH(D[:k]), MTH(D[k:]))``.
  Odd-sized trees need no padding; the empty tree's root is ``sha256(b"")``.
- Trainyard binds the leaf index into every leaf: the data of leaf i is ``uint64_be(i) || payload``
  (:func:`indexed`), so a proof for one position cannot be replayed at another.

The same trees are verified on chain by ``contracts/libraries/TrainyardMerkle.sol``. The scheme is cross-checked
against ``pymerkle`` (RFC 9162) in the tests. ``merkletools`` is not used: it cannot be installed on Python 3.11
(its pysha3 dependency does not build), has no leaf/node domain separation and hashes hex strings in pure Python.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def indexed(index: int, payload: bytes) -> bytes:
    """The leaf data of ``payload`` at position ``index``."""
    return index.to_bytes(8, "big") + payload


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def root_of_hashes(hashes: Sequence[bytes]) -> bytes:
    """Root of a tree whose leaf hashes are given (iterative: a level at a time, RFC 9162's shape)."""
    if not hashes:
        return EMPTY_ROOT
    # Building bottom-up pairwise and carrying an odd last node up unchanged gives the same shape as the
    # recursive split at the largest power of two.
    level = list(hashes)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def root(leaves: Sequence[bytes]) -> bytes:
    """Root over raw leaf data (callers bind indices with :func:`indexed` where they need to)."""
    return root_of_hashes([leaf_hash(d) for d in leaves])


def proof_from_hashes(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 9162 inclusion path of leaf ``index`` (sibling hashes from the leaf up)."""
    n = len(hashes)
    if not 0 <= index < n:
        raise IndexError(f"leaf {index} is not in a tree of {n}")
    path: list[bytes] = []

    def walk(lo: int, hi: int, i: int) -> None:
        if hi - lo == 1:
            return
        k = _split(hi - lo)
        if i < k:
            walk(lo, lo + k, i)
            path.append(root_of_hashes(hashes[lo + k : hi]))
        else:
            walk(lo + k, hi, i - k)
            path.append(root_of_hashes(hashes[lo : lo + k]))

    walk(0, n, index)
    return path


def proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    return proof_from_hashes([leaf_hash(d) for d in leaves], index)


def root_from_proof(leaf_digest: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """Recompute the root from a leaf hash and its path (RFC 9162 section 2.1.3.2); None if malformed."""
    if not 0 <= index < size:
        return None
    fn, sn = index, size - 1
    r = leaf_digest
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify(leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes) -> bool:
    """Does raw leaf data ``leaf`` sit at ``index`` of the ``size``-leaf tree with root ``expected_root``?"""
    return root_from_proof(leaf_hash(leaf), index, size, path) == expected_root
