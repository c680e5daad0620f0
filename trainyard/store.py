"""Content stores: ``put(bytes) -> CID`` and ``get(CID) -> bytes``, every read checked against its CID.

:class:`LocalStore` is the embedded default: a directory of files named by CID. Objects are kept whole (one file
each) under the root CID that IPFS would give them (see :mod:`trainyard.cid`), so a file can be checked by
hashing it again. An IPFS (Kubo) backend is selected by URL in a later change; no IPFS daemon can be installed
on the development and CI machines, so only the CID computation is tested against published IPFS CIDs.
"""

from __future__ import annotations

import abc
import os
import tempfile
from pathlib import Path

from trainyard import cid as cidlib
from trainyard.errors import CIDMismatch, StoreError

SOLVER_SERVE = "127.0.0.1:8081"  # where `trainyard solver run` serves its store unless --serve says otherwise
# What a party that lacks an object should do: read the stores of the parties that wrote it.
READ_HINT = (
    "list the stores of the parties that wrote it in TRAINYARD_GATEWAYS (comma-separated http://host:port): "
    f"a solver serves its own (`trainyard solver run`, default http://{SOLVER_SERVE}, or its --serve), "
    "a submitter runs `trainyard store serve`"
)


class ContentStore(abc.ABC):
    """A content-addressed store."""

    @abc.abstractmethod
    def put(self, data: bytes) -> str:
        """Keep ``data`` and return its CID."""

    @abc.abstractmethod
    def get(self, cid: str) -> bytes:
        """Return the bytes whose CID is ``cid``; raise :class:`StoreError` if absent or corrupt."""

    def has(self, cid: str) -> bool:
        try:
            self.get(cid)
        except StoreError:
            return False
        return True


class LocalStore(ContentStore):
    """Objects as files ``<root>/<cid>``, written atomically (temp file + rename). ``missing_hint`` ends the message
    of a missing object (the CLI's, read without gateways: :data:`READ_HINT`)."""

    def __init__(self, root: str | os.PathLike[str], missing_hint: str = "") -> None:
        self.root = Path(root)
        self.missing_hint = missing_hint

    def put(self, data: bytes) -> str:
        cid = cidlib.cid_for(data)
        path = self.root / cid
        if path.exists():
            return cid
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return cid

    def get(self, cid: str) -> bytes:
        try:
            cidlib.decode(cid)
        except ValueError as exc:
            raise StoreError(f"{cid!r} is not a CID this store can hold (CIDv1, sha2-256, base32)") from exc
        path = self.root / cid
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            hint = f": {self.missing_hint}" if self.missing_hint else ""
            raise StoreError(f"{cid} is not in the store at {self.root}{hint}") from None
        if cidlib.cid_for(data) != cid:
            raise CIDMismatch(f"{path} is corrupt: its bytes do not hash to {cid}; delete it and fetch it again")
        return data
