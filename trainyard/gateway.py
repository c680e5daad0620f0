"""Sharing a content store between machines without an IPFS node: every agent can serve its store over HTTP with
IPFS-gateway paths (``GET /ipfs/<cid>``, FastAPI), and read other agents' stores through :class:`GatewayStore`,
which checks every object it fetches against its CID (a gateway is never trusted).

A solver agent serves its own store (``trainyard solver run --serve``, on :data:`SOLVER_SERVE` unless told
otherwise): verifiers and whistleblowers read its checkpoints from there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Self

import requests
import uvicorn
from fastapi import FastAPI, HTTPException, Response

from trainyard import cid as cidlib
from trainyard.errors import CIDMismatch, ConfigError, StoreError
from trainyard.store import READ_HINT, SOLVER_SERVE, ContentStore

log = logging.getLogger("trainyard.gateway")


def gateway_app(store: ContentStore) -> FastAPI:
    """``GET /ipfs/<cid>``: the object's bytes (checked by the store before they are served), 404 if absent, 400 for
    a string that is not a CID; ``GET /health``."""
    app = FastAPI(title="Trainyard store", docs_url=None, redoc_url=None)

    @app.get("/ipfs/{cid}")
    def get_object(cid: str) -> Response:
        try:
            cidlib.decode(cid)
        except ValueError:
            raise HTTPException(400, f"{cid!r} is not a CIDv1 (sha2-256, base32)") from None
        try:
            data = store.get(cid)
        except CIDMismatch as exc:
            raise HTTPException(500, str(exc)) from None
        except StoreError:
            raise HTTPException(404, f"{cid} is not in this store") from None
        return Response(data, media_type="application/octet-stream", headers={"Cache-Control": "public, immutable"})

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


class BackgroundServer:
    """A FastAPI app served by uvicorn in a background thread (agents serve their stores while they run; tests)."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self, timeout: float = 10.0) -> Self:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise StoreError("the HTTP server did not start (is the port free?)")
            time.sleep(0.02)
        return self

    @property
    def url(self) -> str:
        sock = self.server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Gateway(BackgroundServer):
    """A store served at ``/ipfs/<cid>`` in a background thread."""

    def __init__(self, store: ContentStore, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(gateway_app(store), host, port)


def listen_address(text: str) -> tuple[str, int] | None:
    """``HOST:PORT`` (a bare ``:PORT`` listens on 127.0.0.1), or None for ``off``."""
    if text.strip().lower() in ("off", "none", "no"):
        return None
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"--serve {text!r}: expected HOST:PORT (e.g. {SOLVER_SERVE}) or off")
    return host or "127.0.0.1", int(port)


def serve_store(store: ContentStore, listen: str | None) -> Gateway | None:
    """Serve ``store`` in the background at ``listen`` (None: :data:`SOLVER_SERVE`, or any free port on the same host
    if that one is taken, said in the log; an address given explicitly must be free). None for ``off``."""
    address = listen_address(listen or SOLVER_SERVE)
    if address is None:
        return None
    try:
        return Gateway(store, *address).start()
    except StoreError:
        if listen is not None:
            raise ConfigError(
                f"cannot serve the store at {listen} (port taken, or not an address of this machine): "
                "choose another with --serve HOST:PORT, or --serve off"
            ) from None
    gw = Gateway(store, address[0], 0).start()
    log.warning("%s was taken: serving the store at %s instead (tell the verifiers)", SOLVER_SERVE, gw.url)
    return gw


class GatewayStore(ContentStore):
    """A local store first, then the gateways of other agents (``/ipfs/<cid>``), in order. What a gateway returns
    is checked against the CID before it is kept locally (unless ``keep`` is false: a dry run stores nothing) or
    returned; a gateway that answers wrongly is skipped."""

    def __init__(self, local: ContentStore, gateways: Sequence[str], timeout: float = 30.0, keep: bool = True) -> None:
        self.local, self.gateways, self.timeout = local, [g.rstrip("/") for g in gateways], timeout
        self.keep = keep

    def put(self, data: bytes) -> str:
        return self.local.put(data)

    def get(self, cid: str) -> bytes:
        try:
            return self.local.get(cid)
        except CIDMismatch:
            raise
        except StoreError as exc:
            missing = exc
        problems = []
        for base in self.gateways:
            try:
                r = requests.get(f"{base}/ipfs/{cid}", timeout=self.timeout)
            except requests.RequestException as exc:
                problems.append(f"{base}: {type(exc).__name__}")
                continue
            if r.status_code != 200:
                problems.append(f"{base}: HTTP {r.status_code}")
                continue
            if cidlib.cid_for(r.content) != cid:
                problems.append(f"{base}: sent bytes that do not hash to the CID")
                continue
            if self.keep:
                self.local.put(r.content)
            return r.content
        where = (
            f"nor at any gateway ({'; '.join(problems)})" if self.gateways else "and TRAINYARD_GATEWAYS is not set"
        )
        raise StoreError(f"{cid} is not in this machine's store ({missing}) {where}: {READ_HINT}")
