"""The local content store and CIDs as IPFS computes them."""

import pytest

from trainyard import cid as cidlib
from trainyard.errors import CIDMismatch, StoreError
from trainyard.store import LocalStore

# CIDs printed by IPFS (`ipfs add --cid-version=1`, raw leaves) for these exact bytes.
KNOWN = {
    b"": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
    b"hello world": "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
}


@pytest.mark.parametrize("data,expected", sorted(KNOWN.items()))
def test_cid_for_known_bytes_equals_ipfs_cid(data, expected):
    assert cidlib.cid_for(data) == expected


def test_cid_decode_roundtrip_and_rejects_garbage():
    codec, digest = cidlib.decode(KNOWN[b""])
    assert codec == 0x55 and len(digest) == 32
    for bad in ["", "Qmfoo", "bafy", "b" + "a" * 58]:
        with pytest.raises(ValueError):
            cidlib.decode(bad)


def test_large_object_is_chunked_into_raw_leaves_and_a_dag_pb_root():
    data = bytes(range(256)) * 2048  # 512 KiB = 2 chunks
    blocks = list(cidlib.blocks(data))
    assert len(blocks) == 3
    assert blocks[0][0] == cidlib.cid_for(data[: cidlib.CHUNK_SIZE])
    assert cidlib.decode(blocks[-1][0])[0] == 0x70
    assert cidlib.cid_for(data) == blocks[-1][0]


def test_put_get_roundtrip(tmp_path):
    store = LocalStore(tmp_path)
    cid = store.put(b"checkpoint bytes")
    assert store.get(cid) == b"checkpoint bytes"
    assert store.put(b"checkpoint bytes") == cid  # idempotent
    assert store.has(cid)


def test_get_missing_cid_raises_store_error(tmp_path):
    with pytest.raises(StoreError, match="not in the store"):
        LocalStore(tmp_path).get(KNOWN[b""])


def test_get_corrupted_file_raises_cid_mismatch(tmp_path):
    store = LocalStore(tmp_path)
    cid = store.put(b"original")
    (tmp_path / cid).write_bytes(b"tampered")
    with pytest.raises(CIDMismatch, match="corrupt"):
        store.get(cid)


def test_get_truncated_file_raises_cid_mismatch(tmp_path):
    store = LocalStore(tmp_path)
    cid = store.put(b"0123456789" * 100)
    (tmp_path / cid).write_bytes(b"0123456789")
    with pytest.raises(CIDMismatch):
        store.get(cid)


def test_get_rejects_non_cid_names(tmp_path):
    with pytest.raises(StoreError, match="not a CID"):
        LocalStore(tmp_path).get("../etc/passwd")
