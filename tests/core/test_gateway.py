"""Stores shared over HTTP (IPFS gateway paths, FastAPI): objects of one and of many blocks cross between two
machines' stores, every read is checked against the CID, lying or absent gateways are skipped or reported, and
checkpoints travel this way between a solver and a verifier. Real HTTP servers on loopback, no doubles."""

import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from fastapi import FastAPI, Response

from trainyard import runtime as rt
from trainyard.devnet import free_port
from trainyard.dispute import scenario as sc
from trainyard.errors import ConfigError, StoreError
from trainyard.gateway import BackgroundServer, Gateway, GatewayStore, listen_address, serve_store
from trainyard.store import READ_HINT, LocalStore


@pytest.fixture
def served(tmp_path):
    store = LocalStore(tmp_path / "a")
    with Gateway(store) as gw:
        yield store, gw


@pytest.mark.parametrize("size", [0, 1000, 256 * 1024 + 1, 3 * 256 * 1024])
def test_objects_cross_between_stores_and_are_kept(served, tmp_path, size):
    store, gw = served
    data = os.urandom(size)
    cid = store.put(data)
    other = GatewayStore(LocalStore(tmp_path / "b"), [gw.url])
    assert other.get(cid) == data
    assert other.local.get(cid) == data  # kept: the next read is local


def test_the_gateway_answers_404_and_400(served):
    _, gw = served
    assert requests.get(f"{gw.url}/ipfs/not-a-cid").status_code == 400
    good_but_absent = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
    assert requests.get(f"{gw.url}/ipfs/{good_but_absent}").status_code == 404
    assert requests.get(f"{gw.url}/health").json() == {"status": "ok"}


def test_a_corrupt_object_is_not_served(served, tmp_path):
    store, gw = served
    cid = store.put(b"checkpoint bytes")
    (store.root / cid).write_bytes(b"tampered bytes!!")
    assert requests.get(f"{gw.url}/ipfs/{cid}").status_code == 500
    with pytest.raises(StoreError, match="HTTP 500"):
        GatewayStore(LocalStore(tmp_path / "b"), [gw.url]).get(cid)


def test_a_lying_gateway_is_skipped_for_an_honest_one(served, tmp_path):
    store, honest = served
    data = b"the real object"
    cid = store.put(data)
    liar = FastAPI()

    @liar.get("/ipfs/{cid}")
    def lie(cid: str) -> Response:
        return Response(b"something else", media_type="application/octet-stream")

    with BackgroundServer(liar) as server:
        with pytest.raises(StoreError, match="do not hash to the CID"):
            GatewayStore(LocalStore(tmp_path / "b"), [server.url]).get(cid)
        assert GatewayStore(LocalStore(tmp_path / "c"), ["http://127.0.0.1:9", server.url, honest.url]).get(cid) == data


def test_a_checkpoint_travels_from_solver_to_verifier(tmp_path):
    cfg, data = sc.tiny_config(steps=8, interval=4), sc.tiny_dataset()
    state = rt.train(cfg, data, rt.init_state(cfg, data), 4)
    solver_store = LocalStore(tmp_path / "solver")
    cid = solver_store.put(rt.save_checkpoint(state))
    with Gateway(solver_store) as gw:
        verifier_store = GatewayStore(LocalStore(tmp_path / "verifier"), [gw.url])
        assert rt.load_checkpoint(verifier_store.get(cid)).root() == state.root()


def test_trainyard_store_serve_as_a_process(tmp_path):
    store = LocalStore(tmp_path / "home" / "store")
    cid = store.put(b"served by the CLI")
    port = free_port()
    env = {**os.environ, "TRAINYARD_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "trainyard.cli", "store", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/ipfs/{cid}", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert r.status_code == 200 and r.content == b"served by the CLI"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# -- a solver serves its own store (`trainyard solver run --serve`) ------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [("127.0.0.1:8081", ("127.0.0.1", 8081)), (":9000", ("127.0.0.1", 9000)),
                                                ("0.0.0.0:0", ("0.0.0.0", 0)), ("off", None), ("OFF", None)])
def test_listen_address_reads_host_port_or_off(text, expected):
    assert listen_address(text) == expected


@pytest.mark.parametrize("text", ["8081", "host:", "host:port", "127.0.0.1:70000"])
def test_listen_address_refuses_what_is_not_host_port(text):
    with pytest.raises(ConfigError, match="expected HOST:PORT"):
        listen_address(text)


def _held_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, sock.getsockname()[1]


def test_serve_store_on_the_default_address_falls_back_to_a_free_port_if_taken(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "solver")
    cid = store.put(b"a checkpoint")
    sock, port = _held_port()
    monkeypatch.setattr("trainyard.gateway.SOLVER_SERVE", f"127.0.0.1:{port}")
    with sock:
        gw = serve_store(store, None)
        assert gw is not None
        try:
            assert not gw.url.endswith(f":{port}")
            assert GatewayStore(LocalStore(tmp_path / "verifier"), [gw.url]).get(cid) == b"a checkpoint"
        finally:
            gw.stop()


def test_serve_store_on_an_explicit_address_that_is_taken_says_what_to_do(tmp_path):
    sock, port = _held_port()
    with sock, pytest.raises(ConfigError, match="--serve HOST:PORT, or --serve off"):
        serve_store(LocalStore(tmp_path / "solver"), f"127.0.0.1:{port}")


def test_serve_store_off_serves_nothing(tmp_path):
    assert serve_store(LocalStore(tmp_path / "solver"), "off") is None


def test_an_object_missing_without_gateways_says_to_set_trainyard_gateways(tmp_path):
    cid = LocalStore(tmp_path / "solver").put(b"a checkpoint only the solver has")
    with pytest.raises(StoreError, match="TRAINYARD_GATEWAYS") as err:
        LocalStore(tmp_path / "verifier", missing_hint=READ_HINT).get(cid)
    assert "solver run" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(StoreError, match=r"nor at any gateway .*TRAINYARD_GATEWAYS"):
        GatewayStore(LocalStore(tmp_path / "verifier"), ["http://127.0.0.1:9"]).get(cid)
