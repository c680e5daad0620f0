"""Datasets in fixed point, and their canonical .npz form.

Formats a submitter provides: an .npz with ``X`` (float, shape [n, d]) and ``y`` (integer class labels 0..C-1,
shape [n]), and optionally ``test`` (bool/uint8 [n], true for test rows); or a CSV with a header row, one column of
class labels and the others features (:func:`read_csv`). X is converted once by
:func:`~trainyard.runtime.fixed.to_fixed` (floor(x·2^16 + 0.5)); a value that would not fit in ±16 is refused
with the feature and its range (:func:`check_range`) unless the submitter asked for standardisation
(:class:`Standardization`, fitted on the train rows). Without ``test``, row i is a test row when splitmix64(i)
mod 5 == 0 (about 20%). The stored form (:meth:`Dataset.to_npz_bytes`) carries the fixed-point ``X_fixed``
(int64), ``y`` and ``test``, in a zip with fixed timestamps so the same data always has the same bytes and CID.
Job data is public.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trainyard.errors import DatasetError
from trainyard.runtime.fixed import CLAMP, ONE, splitmix64, to_fixed

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
    return (f"this is {kind}, not {NPZ_FORMAT}: a CSV is read when its name ends in .csv, or save X and y with "
            "numpy.savez")


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
        test = default_test_mask(len(y)) if test is None else np.asarray(test, dtype=bool)
        if test.shape != y.shape or test.all() or not test.any():
            raise ValueError("the test mask must have one entry per row and leave both splits non-empty")
        return cls(torch.from_numpy(x_fixed.astype(np.int64)), torch.from_numpy(y.astype(np.int64)),
                   torch.from_numpy(test))

    @classmethod
    def from_npz_bytes(cls, data: bytes) -> Dataset:
        """Parse an .npz as a solver reads a stored dataset (float X is put in fixed point by
        :func:`~trainyard.runtime.fixed.to_fixed`); any bytes that are not a usable one raise :class:`DatasetError`
        saying what is wrong."""
        f = npz_features(data)
        try:
            return cls.from_arrays(f.x if f.fixed else to_fixed(f.x), f.y, f.test)
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
    return " ".join(str(exc).split())[:400] or type(exc).__name__


def default_test_mask(n: int) -> np.ndarray:
    """Row i is a test row when splitmix64(i) mod 5 == 0 (about 20% of the rows)."""
    return np.asarray((splitmix64(np.arange(n, dtype=np.uint64)) % np.uint64(5)) == 0, dtype=bool)


LIMIT = CLAMP / ONE  # 16.0: the largest magnitude a feature keeps in fixed point


@dataclass(frozen=True)
class Features:
    """A dataset as the submitter's file holds it, before fixed point: float X (or X_fixed, already fixed point,
    when ``fixed``), the labels, the test mask if the file has one and the feature names if it names them."""

    x: np.ndarray
    y: np.ndarray
    test: np.ndarray | None = None
    names: tuple[str, ...] = ()
    fixed: bool = False

    def feature(self, j: int) -> str:
        return f"feature {j} ({self.names[j]!r})" if j < len(self.names) else f"feature {j}"

    def test_mask(self) -> np.ndarray:
        """The test rows (the file's mask, or the default split); both splits must have rows."""
        if self.test is None:
            test = default_test_mask(len(self.y))
        else:
            try:
                test = np.asarray(self.test, dtype=bool)
            except (ValueError, TypeError) as exc:
                raise DatasetError(f"test must be a bool mask: {_one_line(exc)}") from None
            if test.shape != self.y.shape:
                raise DatasetError(f"test must have one entry per row ({self.y.shape}), got shape {test.shape}")
        if test.all() or not test.any():
            raise DatasetError(f"{len(self.y)} row(s) do not make both a train and a test split: the test mask (or, "
                               "without one, every fifth row or so) must leave each split a row")
        return test


def npz_features(data: bytes) -> Features:
    """The arrays of an .npz; :class:`DatasetError` saying what is wrong for anything that is not a usable one."""
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
    y = arrays["y"]
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y) or len(y) == 0:
        raise DatasetError(f"need X of shape [n, d] and y of shape [n], got {x.shape} and {y.shape}")
    fixed = "X_fixed" in arrays
    return Features(x if fixed else x.astype(np.float64), y, arrays.get("test"), fixed=fixed)


def read_csv(data: bytes, label: str | None) -> Features:
    """A CSV with a header row naming the columns; ``label`` names the column of class labels (integers 0..C-1;
    without it, a column named ``label``), every other column is a feature. Errors name the row (as a line of the
    file, the header being row 1) and the column."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data:
        raise DatasetError("the file is empty")
    if data.startswith(_ZIP_MAGIC):
        raise DatasetError("this is a zip archive (an .npz? then name it .npz), not a CSV")
    for magic, what in _OTHER_FORMATS:
        if data.startswith(magic):
            raise DatasetError(f"this is {what}, not a CSV")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"not a CSV: byte {exc.start} is not UTF-8 text") from None
    try:
        rows = [(n, r) for n, r in _csv_rows(text) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise DatasetError(f"not a readable CSV: {_one_line(exc)}") from None
    if not rows:
        raise DatasetError("the file is empty" if not text.strip() else "the CSV has no rows")
    header = [c.strip() for c in rows[0][1]]
    if all(_is_number(c) for c in header):
        raise DatasetError("the CSV needs a header row naming its columns (its first row is numbers)")
    if any(not c for c in header) or len(set(header)) != len(header):
        raise DatasetError(f"the CSV header must name every column once, got {', '.join(map(repr, header))[:150]}")
    want = label or "label"
    if want not in header:
        cols = ", ".join(header)[:150]
        raise DatasetError(
            f"the CSV has no column {want!r} (columns: {cols})"
            + ("" if label else ": name the label column in the spec, dataset: {path: FILE.csv, label: COLUMN}")
        )
    if len(header) < 2:
        raise DatasetError("the CSV needs at least one feature column besides the label")
    k = header.index(want)
    names = tuple(c for i, c in enumerate(header) if i != k)
    x = np.empty((len(rows) - 1, len(names)), dtype=np.float64)
    y = np.empty(len(rows) - 1, dtype=np.int64)
    for i, (line, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise DatasetError(f"row {line}: {len(row)} values, the header has {len(header)} columns")
        j = 0
        for col, cell in zip(header, row, strict=True):
            v = _number(cell, line, col)
            if col == want:
                if v != math.floor(v) or v < 0 or v > 2**31:
                    raise DatasetError(f"row {line}, column {col!r}: {cell.strip()!r} is not a class label "
                                       "(an integer 0, 1, 2, ...)")
                y[i] = int(v)
            else:
                x[i, j] = v
                j += 1
    return Features(x, y, names=names)


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    return [(reader.line_num, row) for row in reader]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _number(cell: str, line: int, col: str) -> float:
    try:
        v = float(cell)
    except ValueError:
        shown = repr(cell.strip()[:40]) if cell.strip() else "an empty cell"
        raise DatasetError(f"row {line}, column {col!r}: {shown} is not a number") from None
    if not math.isfinite(v):
        raise DatasetError(f"row {line}, column {col!r}: {cell.strip()!r} is not a finite number")
    return v


def check_range(f: Features, standardized: bool = False) -> None:
    """Refuse a feature with a value that fixed point would clip (to_fixed(x) beyond ±CLAMP), naming the feature,
    its min and max and the limit, or a value that is not finite, naming its row."""
    if f.fixed:
        v = f.x
    else:
        _check_finite(f)
        with np.errstate(over="ignore"):
            v = np.floor(f.x * ONE + 0.5)
    cols = np.nonzero((np.abs(v) > CLAMP).any(axis=0))[0] if v.size else np.array([], dtype=np.int64)
    if not cols.size:
        return
    j = int(cols[0])
    scale = ONE if f.fixed else 1
    lo, hi = float(f.x[:, j].min()) / scale, float(f.x[:, j].max()) / scale
    more = f" (and {len(cols) - 1} more feature(s))" if len(cols) > 1 else ""
    if standardized:
        raise DatasetError(f"{f.feature(j)} ranges from {lo:.6g} to {hi:.6g} after standardisation, outside the "
                           f"±{LIMIT:g} the fixed-point runtime holds{more}: an outlier more than {LIMIT:g} standard "
                           "deviations out; remove or clip it yourself")
    raise DatasetError(f"{f.feature(j)} ranges from {lo:.6g} to {hi:.6g}, outside the ±{LIMIT:g} the fixed-point "
                       f"runtime holds{more}: its values would be clipped; scale the data, or set "
                       "`standardize: true` under dataset in the spec")


def _check_finite(f: Features) -> None:
    bad = ~np.isfinite(f.x)
    if bad.any():
        i, j = (int(a) for a in np.argwhere(bad)[0])
        raise DatasetError(f"{f.feature(j)}, row {i}: {f.x[i, j]} is not a finite number")


@dataclass(frozen=True)
class Standardization:
    """x' = (x - mean) / std per feature, mean and std (population) computed on the train rows; a feature that is
    constant there is only centred (std recorded as 1). Recorded in the spec document so the stored data can be
    recomputed from the submitter's file."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, f: Features, train: np.ndarray) -> Standardization:
        rows = f.x[train]
        with np.errstate(over="ignore", invalid="ignore"):
            mean, std = rows.mean(axis=0), rows.std(axis=0)
        bad = ~(np.isfinite(mean) & np.isfinite(std))
        if bad.any():
            raise DatasetError(f"{f.feature(int(np.argmax(bad)))}: too large to standardise (its mean or standard "
                               "deviation overflows)")
        std = np.where(std > 0, std, 1.0)
        return cls(tuple(float(m) for m in mean), tuple(float(s) for s in std))

    def apply(self, x: np.ndarray) -> np.ndarray:
        return np.asarray((x - np.asarray(self.mean)) / np.asarray(self.std), dtype=np.float64)

    def record(self) -> dict[str, Any]:
        return {"fitted_on": "train rows", "mean": list(self.mean), "std": list(self.std)}


@dataclass(frozen=True)
class Submission:
    """A submitter's dataset made ready to store: the bytes to store, the dataset they hold, and how those bytes
    were made from the file (``record``, put in the spec document; empty when the file is stored as given)."""

    raw: bytes
    data: Dataset
    record: dict[str, Any] = field(default_factory=dict)


def prepare_submission(raw: bytes, name: str, *, is_csv: bool = False, label: str | None = None,
                       standardize: bool = False) -> Submission:
    """Read a submitter's dataset (an .npz, or a CSV when ``is_csv``), refuse values fixed point would clip unless
    ``standardize``; :class:`DatasetError` starting with ``name`` (the file or CID) otherwise."""
    try:
        return _prepare(raw, is_csv, label, standardize)
    except ValueError as exc:  # DatasetError, or the checks of from_arrays
        raise DatasetError(f"{name}: {_one_line(exc)}") from None


def _prepare(raw: bytes, is_csv: bool, label: str | None, standardize: bool) -> Submission:
    f = read_csv(raw, label) if is_csv else npz_features(raw)
    test = f.test_mask()
    record: dict[str, Any] = {}
    if is_csv:
        record["from_csv"] = {"label": label or "label", "features": list(f.names)}
    if standardize:
        if f.fixed:
            raise DatasetError("standardize: the .npz holds X_fixed (already fixed point); standardisation needs X")
        _check_finite(f)
        s = Standardization.fit(f, ~test)
        f = Features(s.apply(f.x), f.y, f.test, f.names)
        record["standardized"] = s.record()
    check_range(f, standardized=standardize)
    x = f.x if f.fixed else to_fixed(f.x)
    data = Dataset.from_arrays(x, f.y, test)
    return Submission(raw if not record else data.to_npz_bytes(), data, record)


def read_dataset_file(path: str | Path, *, label: str | None = None, standardize: bool = False) -> Submission:
    """A dataset file (a CSV when its name ends in .csv, else an .npz) made ready to store; :class:`DatasetError`
    naming the file and what is wrong with it otherwise."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DatasetError(f"dataset {path}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    return prepare_submission(raw, f"dataset {path}", is_csv=str(path).lower().endswith(".csv"), label=label,
                              standardize=standardize)


def digits_dataset() -> Dataset:
    """scikit-learn's 8x8 handwritten digits (1797 rows, 64 features, 10 classes; shipped inside scikit-learn),
    pixels scaled to [0, 1], the default split."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return Dataset.from_arrays(to_fixed(d.data / 16.0), d.target)
