"""An IPFS node as the content store, through Kubo's HTTP RPC API (``TRAINYARD_IPFS_API``, e.g.
``http://127.0.0.1:5001``): ``add`` with ``cid-version=1`` (raw leaves, 256 KiB chunks: the CIDs of
:mod:`trainyard.cid`) and ``cat``. The node is not trusted: the CID it reports for what is added must be the one
computed here, and what ``cat`` returns must hash to the CID asked for.

No IPFS node can be installed on the development and CI machines: the HTTP calls are tested against a recorded
exchange (tests/core/test_kubo.py), the CIDs against IPFS's own importer (tests/core/test_cid_interop.py).
"""

from __future__ import annotations

import json

import requests

from trainyard import cid as cidlib
from trainyard.errors import CIDMismatch, StoreError
from trainyard.store import ContentStore

ADD_PARAMS = {"cid-version": "1", "raw-leaves": "true", "pin": "true", "quieter": "true"}


class KuboStore(ContentStore):
    def __init__(self, api_url: str, timeout: float = 120.0) -> None:
        self.api, self.timeout = api_url.rstrip("/"), timeout

    def _post(
        self, command: str, params: dict[str, str], files: dict[str, tuple[str, bytes, str]] | None = None
    ) -> requests.Response:
        try:
            r = requests.post(f"{self.api}/api/v0/{command}", params=params, files=files, timeout=self.timeout)
        except requests.RequestException as exc:
            raise StoreError(f"the IPFS node at {self.api} did not answer {command}: {type(exc).__name__}") from None
        if r.status_code != 200:
            try:
                message = r.json().get("Message", r.text)
            except ValueError:
                message = r.text[:200]
            raise StoreError(f"the IPFS node at {self.api} refused {command}: {message}")
        return r

    def put(self, data: bytes) -> str:
        expected = cidlib.cid_for(data)
        r = self._post("add", params=ADD_PARAMS, files={"file": ("object", data, "application/octet-stream")})
        lines = [json.loads(line) for line in r.text.splitlines() if line.strip()]
        got = lines[-1].get("Hash") if lines else None
        if got != expected:
            raise CIDMismatch(f"the IPFS node at {self.api} stored the object as {got}, not {expected}: "
                              "is it set to other chunking or hashing?")
        return expected

    def get(self, cid: str) -> bytes:
        try:
            cidlib.decode(cid)
        except ValueError as exc:
            raise StoreError(f"{cid!r} is not a CID this store can hold (CIDv1, sha2-256, base32)") from exc
        data = self._post("cat", params={"arg": cid}).content
        if cidlib.cid_for(data) != cid:
            raise CIDMismatch(f"the IPFS node at {self.api} returned bytes for {cid} that do not hash to it")
        return data
