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
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from trainyard.errors import DatasetError
from trainyard.runtime.fixed import CLAMP, splitmix64, to_fixed

NPZ_FORMAT = "an .npz (numpy.savez) with X float [n, d] and y int [n]"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# what a file is when it starts with these bytes: the formats people hand in by mistake
_OTHER_FORMATS = (
    (b"\x93NUMPY", "a single .npy array (numpy.save)"),
    (b"\x1f\x8b", "gzip-compressed"),
    (b"BZh", "bzip2-compressed"),
    (b"\xfd7zXZ\x00", "xz-compressed"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file"),
    (b"PAR1", "a Parquet file"),
    (b"ARROW1", "an Arrow file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"%PDF", "a PDF"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x7fELF", "an executable"),
    (b"\x80", "a Python pickle (never loaded: it can run code)"),
)
# what reading a damaged or hostile zip of .npy files raises, besides ValueError
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, TypeError, NotImplementedError,
                RuntimeError, OverflowError, MemoryError)


def sniff(data: bytes) -> str | None:
    """Why ``data`` cannot be an .npz, told by its first bytes; None when it starts like a zip."""
    if not data:
        return "the file is empty"
    if data.startswith(_ZIP_MAGIC):
        return None
    for magic, what in _OTHER_FORMATS:
        if data.startswith(magic):
            return f"this is {what}, not {NPZ_FORMAT}"
    try:
        text = data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return f"this is not {NPZ_FORMAT}"
    kind = "CSV or other text" if "," in text or "\t" in text else "text"
    return f"this is {kind}, not {NPZ_FORMAT}: load it and save X and y with numpy.savez"


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
        """Parse an .npz; any bytes that are not a usable one raise :class:`DatasetError` saying what is wrong."""
        arrays = _read_npz(data)
        if "X_fixed" in arrays:
            x = arrays["X_fixed"]
            if x.dtype != np.int64:
                raise DatasetError(f"X_fixed must be int64, got {x.dtype}")
        elif "X" in arrays:
            x = arrays["X"]
            if x.dtype.kind not in "biuf":
                raise DatasetError(f"X must hold real numbers, got dtype {x.dtype}")
        else:
            has = ", ".join(sorted(arrays)) or "none of X, y, test"
            raise DatasetError(f"the .npz has neither X nor X_fixed (it has {has})")
        if "y" not in arrays:
            raise DatasetError("the .npz has no y")
        try:
            return cls.from_arrays(x if "X_fixed" in arrays else to_fixed(x), arrays["y"], arrays.get("test"))
        except (ValueError, TypeError) as exc:
            raise DatasetError(_one_line(exc)) from None

    def to_npz_bytes(self) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
            for name, arr in (("X_fixed", self.x.numpy()), ("y", self.y.numpy()), ("test", self.test.numpy())):
                npy = io.BytesIO()
                np.lib.format.write_array(npy, np.ascontiguousarray(arr), allow_pickle=False)
                zf.writestr(zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0)), npy.getvalue())
        return buf.getvalue()


def _read_npz(data: bytes) -> dict[str, np.ndarray]:
    """The arrays X_fixed, X, y and test that an .npz holds (those present); DatasetError for anything unreadable."""
    why = sniff(data)
    if why:
        raise DatasetError(why)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("X_fixed", "X", "y", "test") if k in z}
    except zipfile.BadZipFile as exc:
        raise DatasetError(f"not a readable .npz (truncated or damaged zip: {_one_line(exc)})") from None
    except EOFError:
        raise DatasetError("not a readable .npz (it ends too early: truncated?)") from None
    except MemoryError:
        raise DatasetError("an array in the .npz declares more data than fits in memory") from None
    except (ValueError, *_READ_ERRORS) as exc:
        raise DatasetError(f"not a readable .npz: {_one_line(exc)}") from None
    bad = sorted(k for k, v in arrays.items() if not isinstance(v, np.ndarray))
    if bad:
        raise DatasetError(f"{', '.join(bad)} in the .npz is not a .npy array")
    return arrays


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def read_dataset_file(path: str | Path) -> tuple[bytes, Dataset]:
    """The bytes of a dataset file and the dataset they hold; :class:`DatasetError` naming the file and what is
    wrong with it otherwise."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DatasetError(f"dataset {path}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    return raw, parse_dataset(raw, f"dataset {path}")


def parse_dataset(raw: bytes, name: str) -> Dataset:
    """:meth:`Dataset.from_npz_bytes` with ``name`` (the file or CID) in front of its error."""
    try:
        return Dataset.from_npz_bytes(raw)
    except ValueError as exc:  # DatasetError, or the checks of from_arrays
        raise DatasetError(f"{name}: {_one_line(exc)}") from None


def digits_dataset() -> Dataset:
    """scikit-learn's 8x8 handwritten digits (1797 rows, 64 features, 10 classes; shipped inside scikit-learn),
    pixels scaled to [0, 1], the default split."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return Dataset.from_arrays(to_fixed(d.data / 16.0), d.target)
