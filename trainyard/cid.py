"""Content identifiers as IPFS computes them.

An object of at most one chunk (``CHUNK_SIZE`` bytes, Kubo's default chunker) is a single raw block: CIDv1, codec
``raw`` (0x55), multihash sha2-256, written in multibase base32 (``b…``). That is exactly the CID that
``ipfs add --cid-version=1`` (raw leaves are its default then) prints for the same bytes.

Larger objects are cut into ``CHUNK_SIZE`` raw leaves joined by a balanced UnixFS tree of dag-pb nodes with at most
``MAX_LINKS`` links each, which is the layout of Kubo's default importer; :func:`cid_for` computes its root CID.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174
_RAW = 0x55
_DAG_PB = 0x70
_SHA2_256 = 0x12


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _cid_bytes(codec: int, data: bytes) -> bytes:
    return bytes([0x01, codec, _SHA2_256, 32]) + hashlib.sha256(data).digest()


def _encode(cid_bin: bytes) -> str:
    return "b" + base64.b32encode(cid_bin).decode("ascii").lower().rstrip("=")


def decode(cid: str) -> tuple[int, bytes]:
    """Return (codec, sha256 digest) of a CIDv1 base32 string; raise ValueError if it is not one."""
    if not cid or cid[0] != "b":
        raise ValueError(f"not a CIDv1 base32 string: {cid!r}")
    body = cid[1:].upper()
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except ValueError as exc:
        raise ValueError(f"not a CIDv1 base32 string: {cid!r}") from exc
    if len(raw) != 36 or raw[0] != 1 or raw[2] != _SHA2_256 or raw[3] != 32 or raw[1] not in (_RAW, _DAG_PB):
        raise ValueError(f"not a sha2-256 CIDv1 of a raw or dag-pb block: {cid!r}")
    return raw[1], raw[4:]


@dataclass(frozen=True)
class _Node:
    cid: bytes  # binary CID
    file_size: int  # bytes of file content below this node
    tsize: int  # encoded size of the block plus all blocks below it


def _field_bytes(field: int, data: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _field_varint(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _dag_pb_file_node(children: list[_Node]) -> tuple[bytes, _Node]:
    unixfs = _field_varint(1, 2)  # Type = File
    total = sum(c.file_size for c in children)
    unixfs += _field_varint(3, total)
    for c in children:
        unixfs += _field_varint(4, c.file_size)
    block = b""
    for c in children:  # dag-pb: links (field 2) come before data (field 1)
        link = _field_bytes(1, c.cid) + _field_bytes(2, b"") + _field_varint(3, c.tsize)
        block += _field_bytes(2, link)
    block += _field_bytes(1, unixfs)
    node = _Node(_cid_bytes(_DAG_PB, block), total, len(block) + sum(c.tsize for c in children))
    return block, node


def blocks(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Yield every block (CID, bytes) of the object, leaves first, the root last."""
    if len(data) <= CHUNK_SIZE:
        yield _encode(_cid_bytes(_RAW, data)), data
        return
    level: list[_Node] = []
    for off in range(0, len(data), CHUNK_SIZE):
        leaf = data[off : off + CHUNK_SIZE]
        cid = _cid_bytes(_RAW, leaf)
        yield _encode(cid), leaf
        level.append(_Node(cid, len(leaf), len(leaf)))
    while len(level) > 1:
        parents: list[_Node] = []
        for i in range(0, len(level), MAX_LINKS):
            block, node = _dag_pb_file_node(level[i : i + MAX_LINKS])
            yield _encode(node.cid), block
            parents.append(node)
        level = parents


def cid_for(data: bytes) -> str:
    """The CID IPFS gives ``data`` (CIDv1, sha2-256; raw block if it fits in one chunk)."""
    last = ""
    for cid, _ in blocks(data):
        last = cid
    return last
