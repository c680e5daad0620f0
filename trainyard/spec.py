"""The job spec: what a submitter asks for, validated before any transaction is sent.

A spec is a YAML file (see ``examples/digits.yaml``)::

    name: digits-mlp
    model: {arch: mlp, layers: [64, 32, 10]}
    dataset: sklearn:digits          # or a path to an .npz file (X float [n, d], y int [n]); relative to the spec
    # dataset: {path: data.csv, label: target, standardize: true}   # a CSV with a header row; optional scaling
    training: {steps: 300, checkpoint_interval: 50, batch_size: 32, learning_rate: 0.1, momentum: 0.0, seed: 1}
    market:
      max_price: 0.5 ether           # escrowed at posting; ints are wei; units: wei, gwei, ether
      stake_per_bid: 1 ether         # every bid locks this much of the solver's free stake
      bid_period: 10m                # seconds, or a number with s/m/h/d
      reveal_period: 10m
      train_period: 2h
      challenge_period: 30m

Job data is public: the spec and the dataset are put in a content store that anybody may read.

On chain the job is known by its spec hash, keccak256 of the ABI-encoded spec core (:mod:`trainyard.spec_core`:
the document's keccak256 from :func:`spec_hash`, the initial state root, the data root and the training numbers the
dispute game needs), and by the document's CID.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from eth_utils import keccak

from trainyard.errors import DatasetError, SpecError, StoreError

if TYPE_CHECKING:
    from trainyard.runtime.data import Submission
    from trainyard.store import ContentStore

ARCHITECTURES = ("mlp",)
# Limits of disputability: the same numbers as OneStep.checkLimits (contracts/OneStep.sol, docs/contracts.md), so a
# job the chain would refuse at postJob is refused here first, with the numbers.
MAX_LAYERS = 16  # at most 17 widths
MAX_WIDTH = 64  # every width, input features and classes included
MAX_BATCH = 32
MIN_CHECKPOINT_INTERVAL = 2
_UNITS = {"wei": 1, "gwei": 10**9, "ether": 10**18, "eth": 10**18}
_DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_U32 = 2**32 - 1


@dataclass(frozen=True)
class TrainingSpec:
    steps: int
    checkpoint_interval: int
    batch_size: int
    learning_rate: float
    seed: int
    momentum: float = 0.0

    @property
    def num_windows(self) -> int:
        return self.steps // self.checkpoint_interval


@dataclass(frozen=True)
class MarketSpec:
    max_price: int  # wei
    stake_per_bid: int  # wei
    bid_period: int  # seconds
    reveal_period: int
    train_period: int
    challenge_period: int


@dataclass(frozen=True)
class DatasetRef:
    """Where a job's data comes from and how it is read."""

    source: str  # "sklearn:digits", a path (relative to the spec's folder, resolved), or "cid:<CID>" once stored
    label: str | None = None  # a CSV's label column (default: the column named "label")
    standardize: bool = False  # scale every feature by the train rows' mean and std (recorded in the document)

    @property
    def is_file(self) -> bool:
        return not self.source.startswith(("sklearn:", "cid:"))

    @property
    def is_csv(self) -> bool:
        return self.is_file and self.source.lower().endswith(".csv")


@dataclass(frozen=True)
class JobSpec:
    name: str
    arch: str
    layers: tuple[int, ...]
    dataset: DatasetRef
    training: TrainingSpec
    market: MarketSpec

    def document(self, dataset_cid: str, made: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON document that is stored and hashed: everything a solver needs, the data by CID; ``made`` says
        how the stored data was made from the submitter's file (a CSV's columns, a standardisation's numbers)."""
        return {
            "version": 1,
            "name": self.name,
            "model": {"arch": self.arch, "layers": list(self.layers)},
            "dataset": {"cid": dataset_cid, "format": "npz", **(made or {})},
            "training": asdict(self.training),
            "market": asdict(self.market),
        }


def canonical_json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def spec_hash(doc_bytes: bytes) -> bytes:
    """keccak256 of the canonical document: the spec core's ``doc_hash``."""
    return keccak(doc_bytes)


def parse_amount(value: Any, where: str) -> int:
    """Wei from an int, or a string like ``0.5 ether`` / ``20 gwei`` / ``123 wei``."""
    if isinstance(value, bool):
        raise SpecError(f"{where}: expected an amount like '0.5 ether', got {value!r}")
    if isinstance(value, int):
        wei = value
    else:
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]+)\s*", str(value))
        if not m or m.group(2).lower() not in _UNITS:
            raise SpecError(
                f"{where}: expected an amount like '0.5 ether', '20 gwei' or wei as an integer, got {value!r}"
            )
        try:
            exact = Decimal(m.group(1)) * _UNITS[m.group(2).lower()]
        except InvalidOperation as exc:  # pragma: no cover - regex admits only decimals
            raise SpecError(f"{where}: {value!r} is not a number") from exc
        if exact != exact.to_integral_value():
            raise SpecError(f"{where}: {value!r} is not a whole number of wei")
        wei = int(exact)
    if wei <= 0:
        raise SpecError(f"{where}: must be more than zero, got {value!r}")
    return wei


def parse_duration(value: Any, where: str) -> int:
    """Seconds from an int or a string like ``90s``, ``10m``, ``2h``, ``1d``."""
    if isinstance(value, bool):
        raise SpecError(f"{where}: expected a duration like '10m', got {value!r}")
    if isinstance(value, int):
        secs = value
    else:
        m = re.fullmatch(r"\s*([0-9]+)\s*([smhd]?)\s*", str(value))
        if not m:
            raise SpecError(f"{where}: expected a duration like '90s', '10m', '2h' or seconds, got {value!r}")
        secs = int(m.group(1)) * _DURATIONS[m.group(2) or "s"]
    if not 0 < secs <= _U32:
        raise SpecError(f"{where}: must be between 1 second and {_U32} seconds, got {value!r}")
    return secs


# The bounds JobMarket.postJob enforces on every period (MIN_PERIOD, MAX_PERIOD): the same numbers.
MIN_PERIOD = 10 * 60
MAX_PERIOD = 30 * 24 * 3600


def _period(mk: dict[str, Any], key: str) -> int:
    secs = parse_duration(mk[key], f"market.{key}")
    if not MIN_PERIOD <= secs <= MAX_PERIOD:
        raise SpecError(f"market.{key}: must be between 10m and 30d (the market contract refuses other periods), "
                        f"got {mk[key]!r}")
    return secs


def _section(doc: dict[str, Any], key: str) -> dict[str, Any]:
    sec = doc.get(key)
    if not isinstance(sec, dict):
        raise SpecError(f"{key}: missing or not a mapping")
    return sec


def _int(sec: dict[str, Any], key: str, where: str, lo: int, hi: int) -> int:
    v = sec.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise SpecError(f"{where}.{key}: expected an integer, got {v!r}")
    if not lo <= v <= hi:
        raise SpecError(f"{where}.{key}: must be between {lo} and {hi}, got {v}")
    return v


def _float(sec: dict[str, Any], key: str, where: str, lo: float, hi: float, default: float | None = None) -> float:
    v = sec.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SpecError(f"{where}.{key}: expected a number, got {v!r}")
    if not lo <= float(v) <= hi:
        raise SpecError(f"{where}.{key}: must be between {lo} and {hi}, got {v}")
    return float(v)


def _check_keys(sec: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted((k if isinstance(k, str) and k.isprintable() else repr(k)[:40]) for k in set(sec) - allowed)
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def parse_spec(doc: Any, base_dir: Path | None = None) -> JobSpec:
    """Validate a parsed YAML/JSON mapping and return the spec; raise :class:`SpecError` naming the field."""
    if not isinstance(doc, dict):
        raise SpecError("the spec must be a mapping with name, model, dataset, training and market")
    _check_keys(doc, {"name", "model", "dataset", "training", "market"}, "spec")
    name = doc.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        raise SpecError(f"name: 1-64 letters, digits, '_', '.' or '-', got {name!r}")

    model = _section(doc, "model")
    _check_keys(model, {"arch", "layers"}, "model")
    arch = model.get("arch")
    if arch not in ARCHITECTURES:
        raise SpecError(f"model.arch: must be one of {', '.join(ARCHITECTURES)}, got {arch!r}")
    layers = model.get("layers")
    if (
        not isinstance(layers, list)
        or len(layers) < 2
        or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in layers)
    ):
        raise SpecError(f"model.layers: a list of at least 2 positive widths (input ... classes), got {layers!r}")
    if layers[-1] < 2:
        raise SpecError(
            f"model.layers: the last width is the number of classes and must be at least 2, got {layers[-1]}"
        )

    dataset = parse_dataset_ref(doc.get("dataset"), base_dir)

    tr = _section(doc, "training")
    where = "training"
    _check_keys(tr, {"steps", "checkpoint_interval", "batch_size", "learning_rate", "momentum", "seed"}, where)
    steps = _int(tr, "steps", where, 1, 2**40)
    interval = _int(tr, "checkpoint_interval", where, 1, steps)
    if steps % interval:
        raise SpecError(f"training.checkpoint_interval: must divide steps ({steps}), got {interval}")
    if steps // interval > _U32:
        raise SpecError(f"training: at most {_U32} checkpoint windows, got {steps // interval}")
    training = TrainingSpec(
        steps=steps,
        checkpoint_interval=interval,
        batch_size=_int(tr, "batch_size", where, 1, 65536),
        learning_rate=_float(tr, "learning_rate", where, 1e-6, 10.0),
        seed=_int(tr, "seed", where, 0, 2**63 - 1),
        momentum=_float(tr, "momentum", where, 0.0, 0.999, default=0.0),
    )
    check_disputable(tuple(layers), training.batch_size, training.checkpoint_interval)

    mk = _section(doc, "market")
    keys = {"max_price", "stake_per_bid", "bid_period", "reveal_period", "train_period", "challenge_period"}
    _check_keys(mk, keys, "market")
    missing = sorted(k for k in keys if k not in mk)
    if missing:
        raise SpecError(f"market: missing {', '.join(missing)}")
    market = MarketSpec(
        max_price=parse_amount(mk["max_price"], "market.max_price"),
        stake_per_bid=parse_amount(mk["stake_per_bid"], "market.stake_per_bid"),
        bid_period=_period(mk, "bid_period"),
        reveal_period=_period(mk, "reveal_period"),
        train_period=_period(mk, "train_period"),
        challenge_period=_period(mk, "challenge_period"),
    )
    if market.stake_per_bid < market.max_price:
        raise SpecError(f"market.stake_per_bid: must be at least max_price ({mk['max_price']}), got "
                        f"{mk['stake_per_bid']}: an unrevealed bid forfeits its stake, which must outweigh any price "
                        f"a selective reveal could move")
    return JobSpec(name, arch, tuple(layers), dataset, training, market)


DATASET_FORMS = ("'sklearn:digits', a path to an .npz or .csv file, 'cid:<CID>', or "
                 "{path: FILE, label: COLUMN, standardize: true}")


def parse_dataset_ref(value: Any, base_dir: Path | None = None) -> DatasetRef:
    """The spec's ``dataset``: a string (built-in name, file, CID) or a mapping with ``path`` and the options."""
    label: str | None = None
    standardize = False
    if isinstance(value, dict):
        _check_keys(value, {"path", "label", "standardize"}, "dataset")
        source = value.get("path")
        if not isinstance(source, str) or not source:
            raise SpecError(f"dataset.path: the data file (or 'cid:<CID>'), got {source!r:.60}")
        label = value.get("label")
        if label is not None and (not isinstance(label, str) or not label.strip()):
            raise SpecError(f"dataset.label: the name of the CSV's label column, got {label!r:.60}")
        standardize = value.get("standardize", False)
        if not isinstance(standardize, bool):
            raise SpecError(f"dataset.standardize: true or false, got {standardize!r:.60}")
    elif isinstance(value, str) and value:
        source = value
    else:
        raise SpecError(f"dataset: {DATASET_FORMS}")
    if source.startswith("sklearn:"):
        if source != "sklearn:digits":
            raise SpecError(f"dataset: the only built-in dataset is sklearn:digits, got {source!r}")
        if standardize:
            raise SpecError("dataset.standardize: sklearn:digits is already scaled to [0, 1]")
    elif not source.startswith("cid:"):
        path = Path(source) if base_dir is None else base_dir / source
        if not _is_file(path):
            raise SpecError(f"dataset: no file at {path}")
        source = str(path)
    ref = DatasetRef(source, label, standardize)
    if label is not None and not ref.is_csv:
        raise SpecError(f"dataset.label: only a CSV file (a name ending in .csv) has a label column; {source} "
                        "is read as an .npz, whose labels are its y array")
    return ref


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system, and the like
        return False


def _check_names(doc: Any, where: str) -> None:
    """Refuse a mapping key that is not a printable string anywhere in the document: YAML makes ``?`` into
    ``{None: None}``, and ``1:``, ``true:``, ``~:`` or ``2024-01-01:`` into keys of other types."""
    todo, seen = [(doc, where)], set()
    while todo:
        node, at = todo.pop()
        if id(node) in seen:  # YAML anchors share (or nest) nodes: visit each once
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str) or not key.isprintable():
                    shown = "an empty key ('?' or '~:')" if key is None else repr(key)[:40]
                    raise SpecError(f"{at}: keys must be names like 'market', got {shown}")
                todo.append((value, f"{at}.{key}"))
        elif isinstance(node, list):
            todo.extend((v, f"{at}[{i}]") for i, v in enumerate(node))


def check_disputable(layers: tuple[int, ...], batch_size: int, checkpoint_interval: int) -> None:
    """Refuse a model a dispute could not settle on chain (OneStep.checkLimits's numbers), naming the limit."""
    if len(layers) > MAX_LAYERS + 1:
        raise SpecError(f"model.layers: at most {MAX_LAYERS} layers ({MAX_LAYERS + 1} widths) can be disputed on "
                        f"chain, got {len(layers) - 1} layers")
    wide = [w for w in layers if w > MAX_WIDTH]
    if wide:
        raise SpecError(
            f"model.layers: every width must be at most {MAX_WIDTH} to be disputable on chain, got {wide[0]}"
        )
    if batch_size > MAX_BATCH:
        raise SpecError(f"training.batch_size: at most {MAX_BATCH} to be disputable on chain, got {batch_size}")
    if checkpoint_interval < MIN_CHECKPOINT_INTERVAL:
        raise SpecError(f"training.checkpoint_interval: at least {MIN_CHECKPOINT_INTERVAL} steps per window "
                        f"(an approval opens a state inside a window), got {checkpoint_interval}")


def load_spec(path: str | Path) -> JobSpec:
    """Read and validate a spec file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read spec {p}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"{p} is not a YAML spec: byte {exc.start} is not UTF-8 text") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise SpecError(f"{p} is not valid YAML{at}: {problem}") from None
    except RecursionError:
        raise SpecError(f"{p} nests too deeply to be a spec") from None
    _check_names(doc, "spec")
    return parse_spec(doc, base_dir=p.parent)


def load_dataset(ref: str | DatasetRef, store: ContentStore | None = None) -> Submission:
    """The dataset a spec names (``sklearn:digits``, a file, or ``cid:<CID>`` in ``store``) made ready to store: the
    bytes, the dataset and how they were made; :class:`DatasetError` naming it and what is wrong otherwise."""
    from trainyard.runtime.data import Submission, digits_dataset, prepare_submission, read_dataset_file

    if isinstance(ref, str):
        ref = DatasetRef(ref)
    if ref.source == "sklearn:digits":
        data = digits_dataset()
        return Submission(data.to_npz_bytes(), data)
    if ref.source.startswith("cid:"):
        if store is None:
            raise DatasetError(f"dataset {ref.source}: a CID needs a content store to read it from")
        try:
            raw = store.get(ref.source.removeprefix("cid:"))
        except StoreError as exc:
            raise DatasetError(
                f"dataset {ref.source}: {exc}; give the data as a file path in the spec, or put it in this store "
                "(TRAINYARD_STORE, TRAINYARD_IPFS_API) or one listed in TRAINYARD_GATEWAYS"
            ) from None
        return prepare_submission(raw, f"dataset {ref.source}", standardize=ref.standardize)
    return read_dataset_file(ref.source, label=ref.label, standardize=ref.standardize)


def parse_document(data: bytes) -> dict[str, Any]:
    """Parse a stored spec document (as a solver reads it) and check its shape."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise SpecError(f"the stored spec is not JSON: {exc}") from None
    except RecursionError:
        raise SpecError("the stored spec nests too deeply to be a spec document") from None
    if not isinstance(doc, dict) or doc.get("version") != 1:
        raise SpecError("the stored spec is not a version-1 Trainyard spec document")
    _check_names(doc, "spec")
    spec = dict(doc)
    dataset = doc.get("dataset")
    if not isinstance(dataset, dict) or not isinstance(dataset.get("cid"), str):
        raise SpecError(f"the stored spec's dataset must be {{cid: <CID>, format: npz}}, got {dataset!r:.60}")
    spec["dataset"] = "cid:" + dataset["cid"]
    spec.pop("version")
    parse_spec(spec)  # same checks as at submission
    return doc
