"""Commitments: tensors, states, checkpoints and traces, all as Merkle roots (:mod:`trainyard.merkle`).

- **Tensor**: leaf 0 is the header ``b"TYT1" || uint8 ndim || uint32_le shape[...]``; leaves 1.. are chunks of
  ``CHUNK`` = 64 int64 values (512 bytes, little-endian, row-major; the last chunk may be shorter). Every leaf is
  index-bound. The commitment is the root.
- **State root**: leaf 0 is ``b"step" || uint64_be step``; then one leaf per tensor, in name order:
  ``sha256(name) || tensor commitment``.
- **Checkpoint**: ``b"TYCK1" || uint32_le len(header) || header JSON || tensors`` (int64 little-endian, in the
  header's order); it loads back to the same state root.
- **Trace leaf** i: ``uint64_be step || state root || sha256(checkpoint CID)``; the trace root is their root.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable

import torch

from trainyard import merkle

CHUNK = 64


def tensor_header(t: torch.Tensor) -> bytes:
    return b"TYT1" + bytes([t.dim()]) + b"".join(struct.pack("<I", s) for s in t.shape)


def tensor_leaves(t: torch.Tensor) -> list[bytes]:
    """The index-bound leaves of a tensor's commitment."""
    raw = t.detach().to("cpu", torch.int64).contiguous().numpy().astype("<i8").tobytes()
    size = CHUNK * 8
    chunks = [raw[i : i + size] for i in range(0, len(raw), size)]
    return [merkle.indexed(i, d) for i, d in enumerate([tensor_header(t), *chunks])]


def tensor_commitment(t: torch.Tensor) -> bytes:
    return merkle.root(tensor_leaves(t))


def state_leaves(step: int, tensors: dict[str, torch.Tensor]) -> list[bytes]:
    leaves = [merkle.indexed(0, b"step" + step.to_bytes(8, "big"))]
    for i, name in enumerate(sorted(tensors), start=1):
        leaves.append(merkle.indexed(i, hashlib.sha256(name.encode()).digest() + tensor_commitment(tensors[name])))
    return leaves


def state_root(step: int, tensors: dict[str, torch.Tensor]) -> bytes:
    return merkle.root(state_leaves(step, tensors))


def serialize(step: int, meta: dict[str, object], tensors: dict[str, torch.Tensor]) -> bytes:
    names = sorted(tensors)
    header = {"step": step, "meta": meta, "tensors": [[n, list(tensors[n].shape)] for n in names]}
    hb = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    body = b"".join(tensors[n].detach().to("cpu", torch.int64).contiguous().numpy().astype("<i8").tobytes() for n in names)
    return b"TYCK1" + struct.pack("<I", len(hb)) + hb + body


def deserialize(data: bytes) -> tuple[int, dict[str, object], dict[str, torch.Tensor]]:
    import numpy as np

    if data[:5] != b"TYCK1" or len(data) < 9:
        raise ValueError("not a Trainyard checkpoint")
    (hl,) = struct.unpack("<I", data[5:9])
    try:
        header = json.loads(data[9 : 9 + hl])
    except ValueError as exc:
        raise ValueError(f"corrupt checkpoint header: {exc}") from None
    off = 9 + hl
    tensors: dict[str, torch.Tensor] = {}
    for name, shape in header["tensors"]:
        n = 1
        for s in shape:
            n *= s
        chunk = data[off : off + 8 * n]
        if len(chunk) != 8 * n:
            raise ValueError("truncated checkpoint")
        tensors[name] = torch.from_numpy(np.frombuffer(chunk, dtype="<i8").astype(np.int64).reshape(shape))
        off += 8 * n
    if off != len(data):
        raise ValueError("checkpoint has trailing bytes")
    return int(header["step"]), dict(header["meta"]), tensors


def trace_leaf(index: int, step: int, root: bytes, checkpoint_cid: str) -> bytes:
    return merkle.indexed(index, step.to_bytes(8, "big") + root + hashlib.sha256(checkpoint_cid.encode()).digest())


def trace_root(leaves: Iterable[bytes]) -> bytes:
    return merkle.root(list(leaves))
