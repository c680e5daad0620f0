"""Datasets in fixed point, and their canonical .npz form.

Format a submitter provides: an .npz with ``X`` (float, shape [n, d]) and ``y`` (integer class labels 0..C-1,
shape [n]), and optionally ``test`` (bool/uint8 [n], true for test rows). X is converted once by
:func:`~trainyard.runtime.fixed.to_fixed` (floor(x·2^16 + 0.5), clamped to ±16). Without ``test``, row i is a
test row when splitmix64(i) mod 5 == 0 (about 20%). The stored form (:meth:`Dataset.to_npz_bytes`) carries the
fixed-point ``X_fixed`` (int64), ``y`` and ``test``, in a zip with fixed timestamps so the same data always has
the same bytes and CID. Job data is public.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import numpy as np
import torch

from trainyard.runtime.fixed import CLAMP, splitmix64, to_fixed


@dataclass(frozen=True)
class Dataset:
    x: torch.Tensor  # int64 [n, d], fixed point
    y: torch.Tensor  # int64 [n]
    test: torch.Tensor  # bool [n]

    @property
    def n_features(self) -> int:
        return int(self.x.shape[1])

    @property
    def n_classes(self) -> int:
        return int(self.y.max().item()) + 1 if self.y.numel() else 0

    @property
    def train_index(self) -> torch.Tensor:
        return torch.nonzero(~self.test).flatten()

    @property
    def test_index(self) -> torch.Tensor:
        return torch.nonzero(self.test).flatten()

    @classmethod
    def from_arrays(cls, x_fixed: np.ndarray, y: np.ndarray, test: np.ndarray | None = None) -> Dataset:
        x_fixed = np.asarray(x_fixed)
        y = np.asarray(y)
        if x_fixed.ndim != 2 or y.ndim != 1 or len(x_fixed) != len(y) or len(y) == 0:
            raise ValueError(f"need X of shape [n, d] and y of shape [n], got {x_fixed.shape} and {y.shape}")
        if x_fixed.size and np.abs(x_fixed).max() > CLAMP:
            raise ValueError(f"fixed-point X must lie within ±{CLAMP} (±16.0)")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ValueError("y must hold integer class labels 0..C-1")
        if test is None:
            test = (splitmix64(np.arange(len(y), dtype=np.uint64)) % np.uint64(5)) == 0
        test = np.asarray(test, dtype=bool)
        if test.shape != y.shape or test.all() or not test.any():
            raise ValueError("the test mask must have one entry per row and leave both splits non-empty")
        return cls(torch.from_numpy(x_fixed.astype(np.int64)), torch.from_numpy(y.astype(np.int64)),
                   torch.from_numpy(test))

    @classmethod
    def from_npz_bytes(cls, data: bytes) -> Dataset:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            if "X_fixed" in z:
                x = z["X_fixed"]
                if x.dtype != np.int64:
                    raise ValueError("X_fixed must be int64")
            elif "X" in z:
                x = to_fixed(z["X"])
            else:
                raise ValueError("the .npz has neither X nor X_fixed")
            if "y" not in z:
                raise ValueError("the .npz has no y")
            return cls.from_arrays(x, z["y"], z["test"] if "test" in z else None)

    def to_npz_bytes(self) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
            for name, arr in (("X_fixed", self.x.numpy()), ("y", self.y.numpy()), ("test", self.test.numpy())):
                npy = io.BytesIO()
                np.lib.format.write_array(npy, np.ascontiguousarray(arr), allow_pickle=False)
                zf.writestr(zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0)), npy.getvalue())
        return buf.getvalue()


def digits_dataset() -> Dataset:
    """scikit-learn's 8x8 handwritten digits (1797 rows, 64 features, 10 classes; shipped inside scikit-learn),
    pixels scaled to [0, 1], the default split."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return Dataset.from_arrays(to_fixed(d.data / 16.0), d.target)
