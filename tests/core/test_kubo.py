"""The Kubo backend's HTTP calls against a recorded exchange: an IPFS node cannot be installed here, so a local
server stands in for Kubo's RPC API, checks each request as Kubo receives it (POST, path, query, multipart file)
and answers as Kubo answers (JSON line for add; the bytes for cat; a JSON error with HTTP 500). This double is the
only one in the tests; the CIDs themselves are checked against IPFS's importer in test_cid_interop.py."""

import pytest
from fastapi import FastAPI, Request, Response

from trainyard.cid import cid_for
from trainyard.errors import CIDMismatch, StoreError
from trainyard.gateway import BackgroundServer
from trainyard.kubo import KuboStore


def multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    """The named parts of a multipart/form-data body (what Kubo reads from an add)."""
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = b"--" + content_type.split("boundary=", 1)[1].encode()
    parts = {}
    for chunk in body.split(boundary)[1:-1]:
        head, _, content = chunk[2:].partition(b"\r\n\r\n")
        name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
        parts[name] = content[:-2]  # the part ends with CRLF before the next boundary
    return parts


def recorded_kubo(behaviour: dict):
    """Kubo's /api/v0/add and /api/v0/cat as recorded; ``behaviour`` can make it lie or fail."""
    app = FastAPI()
    blocks: dict[str, bytes] = {}
    app.state.requests = []

    @app.post("/api/v0/add")
    async def add(request: Request) -> Response:
        parts = multipart(request.headers["content-type"], await request.body())
        app.state.requests.append(("add", dict(request.query_params), sorted(parts)))
        data = parts["file"]
        cid = behaviour.get("add_cid") or cid_for(data)
        blocks[cid] = data
        body = f'{{"Name":"object","Hash":"{cid}","Size":"{len(data)}"}}\n'
        return Response(body, media_type="application/json")

    @app.post("/api/v0/cat")
    async def cat(request: Request) -> Response:
        cid = request.query_params["arg"]
        app.state.requests.append(("cat", dict(request.query_params), []))
        if cid not in blocks:
            return Response('{"Message":"block was not found locally (offline): ipld: could not find ' + cid +
                            '","Code":0,"Type":"error"}', status_code=500, media_type="application/json")
        return Response(behaviour.get("cat_bytes") or blocks[cid], media_type="text/plain")

    return app


@pytest.fixture
def node():
    behaviour: dict = {}
    app = recorded_kubo(behaviour)
    with BackgroundServer(app) as server:
        yield KuboStore(server.url), app, behaviour


@pytest.mark.parametrize("size", [0, 5000, 3 * 256 * 1024 + 11])
def test_add_then_cat_with_kubos_parameters(node, size):
    store, app, _ = node
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    cid = store.put(data)
    assert cid == cid_for(data) and store.get(cid) == data
    add, cat = app.state.requests
    assert add == ("add", {"cid-version": "1", "raw-leaves": "true", "pin": "true", "quieter": "true"}, ["file"])
    assert cat == ("cat", {"arg": cid}, [])


def test_a_node_that_computes_another_cid_is_refused(node):
    store, _, behaviour = node
    behaviour["add_cid"] = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    with pytest.raises(CIDMismatch, match="other chunking or hashing"):
        store.put(b"some checkpoint")


def test_bytes_that_do_not_hash_to_the_cid_are_refused(node):
    store, _, behaviour = node
    cid = store.put(b"the real bytes")
    behaviour["cat_bytes"] = b"other bytes"
    with pytest.raises(CIDMismatch, match="do not hash"):
        store.get(cid)


def test_node_errors_and_a_missing_node_are_reported(node):
    store, *_ = node
    with pytest.raises(StoreError, match="could not find"):
        store.get(cid_for(b"never added"))
    with pytest.raises(StoreError, match="not a CID"):
        store.get("Qm-not-a-cid")
    with pytest.raises(StoreError, match="did not answer"):
        KuboStore("http://127.0.0.1:9", timeout=2).get(cid_for(b"x"))
