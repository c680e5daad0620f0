"""CIDs of objects of any size against an implementation nobody here wrote: IPFS's own UnixFS importer
(ipfs-unixfs-importer from npm, run by Node with Kubo's `ipfs add --cid-version=1` settings, tools/ipfs/cid.mjs),
from one raw block up to a tree of two levels (more than 174 chunks). Published single-block CIDs are checked in
test_store.py."""

import subprocess
from pathlib import Path

import pytest

from trainyard.cid import CHUNK_SIZE, MAX_LINKS, cid_for

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "ipfs" / "cid.mjs"


def ipfs_cid(data: bytes) -> str:
    out = subprocess.run(["node", str(SCRIPT)], input=data, capture_output=True, timeout=120, check=True)
    return out.stdout.decode().strip()


def pattern(n: int) -> bytes:
    return (bytes(range(251)) * (n // 251 + 1))[:n]


@pytest.mark.parametrize("size", [
    0, 1, 1000, CHUNK_SIZE, CHUNK_SIZE + 1, 4 * CHUNK_SIZE - 7,
    MAX_LINKS * CHUNK_SIZE,  # a full node of 174 leaves
    MAX_LINKS * CHUNK_SIZE + 1,  # one more leaf: a second level
    (MAX_LINKS + 3) * CHUNK_SIZE + 12345,
])
def test_cid_is_what_the_ipfs_importer_gives(size):
    data = pattern(size)
    assert cid_for(data) == ipfs_cid(data)
