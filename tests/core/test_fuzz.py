"""Fuzzing (hypothesis) of everything that reads outside input: spec files and stored spec documents, store
objects, checkpoints and datasets. Bad input must end in the project's own error naming the problem (what the CLI
turns into one line and exit code 2), never in a crash of another kind."""

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from trainyard import runtime as rt
from trainyard.errors import DatasetError, SpecError, StoreError
from trainyard.runtime import commit
from trainyard.runtime.data import read_dataset_file
from trainyard.spec import DatasetRef, load_dataset, load_spec, parse_document, parse_spec
from trainyard.store import LocalStore

EXAMPLE = yaml.safe_load((Path(__file__).resolve().parents[2] / "examples" / "digits.yaml").read_text())
FUZZ = settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
                    st.text(max_size=20), st.binary(max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                      max_leaves=12)


def _mutate(doc, path, value):
    """The example spec with the value at ``path`` (a list of keys) replaced or deleted (value ``...``)."""
    out = json.loads(json.dumps(doc))
    node = out
    for k in path[:-1]:
        node = node[k]
    if value is ...:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return out


def _paths(doc, prefix=()):
    for k, v in doc.items():
        yield [*prefix, k]
        if isinstance(v, dict):
            yield from _paths(v, (*prefix, k))


PATHS = list(_paths(EXAMPLE))


@FUZZ
@given(path=st.sampled_from(PATHS), value=st.one_of(values, st.just(...)))
def test_a_spec_with_any_field_changed_is_accepted_or_refused_with_a_spec_error(path, value):
    try:
        parse_spec(_mutate(EXAMPLE, path, value))
    except SpecError as exc:
        assert str(exc)  # names the problem


@FUZZ
@given(doc=values)
def test_any_parsed_yaml_is_accepted_or_refused_with_a_spec_error(doc):
    with contextlib.suppress(SpecError):
        parse_spec(doc)


def _one_line(exc: Exception) -> None:
    assert str(exc) and "\n" not in str(exc), str(exc)  # what the CLI prints after "error: "


# YAML that parses to a mapping with a key that is not a name: found by fuzzing (`?` made `submit` crash)
ODD_KEYS = ["?", "? \n", "~: 1", "null: x", "1: 2", "-1: 2", "1.5: x", "true: x", "no: x", "2024-01-01: x",
            "!!binary aGk=: x", "name: x\nmodel: {1: 2}", "market:\n  ?: 1", "[?]", "- {2: 3}", '"a\\nb": 1',
            "a: &a [*a]\n1: 2", "\ufeff?"]


def _examples(cases):
    def decorate(fn):
        for case in cases:
            fn = example(case)(fn)
        return fn
    return decorate


@FUZZ
@_examples(ODD_KEYS)
@given(text=st.text(max_size=300))
def test_any_spec_file_text_is_refused_with_a_spec_error(tmp_path_factory, text):
    p = tmp_path_factory.mktemp("spec") / "job.yaml"
    p.write_text(text, encoding="utf-8")
    try:
        load_spec(p)
    except SpecError as exc:
        _one_line(exc)


odd_keys = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.dates(),
                     st.text(max_size=8))


@FUZZ
@given(section=st.sampled_from([None, "model", "training", "market"]), key=odd_keys, value=values)
def test_a_spec_with_a_key_of_any_type_anywhere_is_refused_with_a_spec_error(tmp_path_factory, section, key, value):
    """The example spec as YAML, with one key of another type (null, number, bool, date) added at any level."""
    doc = json.loads(json.dumps(EXAMPLE))
    (doc if section is None else doc[section])[key] = value
    p = tmp_path_factory.mktemp("spec") / "job.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    try:
        load_spec(p)
    except SpecError as exc:
        _one_line(exc)
    else:
        assert isinstance(key, str)  # a key of another type is never accepted


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_bytes_as_a_spec_file_are_refused_with_a_spec_error(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("spec") / "job.yaml"
    p.write_bytes(data)
    try:
        load_spec(p)
    except SpecError as exc:
        _one_line(exc)


@FUZZ
@given(data=st.one_of(st.binary(max_size=200), values.map(lambda v: json.dumps(v, default=str).encode())))
def test_any_stored_spec_document_is_refused_with_a_spec_error(data):
    with contextlib.suppress(SpecError):
        parse_document(data)


@FUZZ
@given(payload=st.binary(max_size=600), cut=st.integers(0, 600), flip=st.integers(0, 599))
def test_store_objects_truncated_or_corrupted_are_refused(tmp_path_factory, payload, cut, flip):
    store = LocalStore(tmp_path_factory.mktemp("store"))
    cid = store.put(payload)
    path = next(p for p in store.root.rglob("*") if p.is_file())
    raw = bytearray(path.read_bytes())
    if raw:
        raw[flip % len(raw)] ^= 0x5A
    path.write_bytes(bytes(raw[: cut if cut < len(raw) else len(raw)]))
    try:
        got = store.get(cid)
        assert got == payload  # only if the damage undid itself (never for a real change)
    except StoreError as exc:
        assert cid in str(exc)


@FUZZ
@given(cid=st.text(max_size=80))
def test_any_cid_string_is_refused_with_a_store_error(tmp_path_factory, cid):
    store = LocalStore(tmp_path_factory.mktemp("store"))
    with contextlib.suppress(StoreError):
        store.get(cid)


GOOD = rt.save_checkpoint(rt.init_state(rt.TrainConfig((3, 4, 2), 0.5, 2, 2, 1, 1, 0.5)))


@FUZZ
@given(cut=st.integers(0, len(GOOD)), flip=st.integers(0, len(GOOD) - 1), junk=st.binary(max_size=64))
def test_corrupted_checkpoints_are_refused_with_a_value_error(cut, flip, junk):
    raw = bytearray(GOOD)
    raw[flip] ^= 0xFF
    for blob in (bytes(raw[:cut]), bytes(raw) + junk, junk):
        try:
            state = rt.load_checkpoint(blob)
        except (ValueError, KeyError, TypeError):
            continue
        # a flip inside the tensor bytes still loads (a checkpoint is checked against its root, not by parsing)
        assert commit.state_root(state.step, state.tensors) != rt.load_checkpoint(GOOD).root() or blob == GOOD


def _savez(compressed: bool, **arrays) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


GOOD_DATA = [_savez(c, X=np.random.default_rng(2).random((30, 5)), y=np.arange(30) % 3) for c in (False, True)]
# the first bytes of the formats people hand in instead of an .npz
MAGICS = [
    b"\x93NUMPY\x01\x00",
    b"\x1f\x8b\x08",
    b"BZh9",
    b"\xfd7zXZ\x00",
    b"\x89HDF\r\n\x1a\n",
    b"PAR1",
    b"SQLite format 3\x00",
    b"%PDF-1.7",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"\x80\x04\x95",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x7fELF",
]
csv_text = st.lists(st.lists(st.floats(allow_nan=True, width=32), min_size=1, max_size=5), min_size=0, max_size=6).map(
    lambda rows: "\n".join(",".join(map(str, r)) for r in rows).encode()
)
arrays = st.dictionaries(
    st.sampled_from(["X", "X_fixed", "y", "test", "other"]),
    st.tuples(
        st.sampled_from(["<f8", "<i8", "<i4", "|b1", "<U3", "<c16", "<f4", "<u8"]),
        st.lists(st.integers(0, 6), max_size=3),
    ),
    max_size=4,
)


def _npz_of(spec: dict, compressed: bool) -> bytes:
    rng = np.random.default_rng(3)
    return _savez(
        compressed, **{k: rng.integers(-3, 3, size=shape).astype(dtype) for k, (dtype, shape) in spec.items()}
    )


dataset_files = st.one_of(
    st.tuples(st.sampled_from(GOOD_DATA), st.integers(0, 2000)).map(lambda t: t[0][: t[1]]),  # truncated
    st.tuples(st.sampled_from(GOOD_DATA), st.integers(0, 2000), st.integers(1, 255)).map(  # a byte flipped
        lambda t: t[0][: t[1] % len(t[0])] + bytes([t[0][t[1] % len(t[0])] ^ t[2]]) + t[0][t[1] % len(t[0]) + 1 :]
    ),
    st.just(b""),  # empty
    csv_text,  # another format: text
    st.tuples(st.sampled_from(MAGICS), st.binary(max_size=200)).map(b"".join),  # another format's magic bytes
    st.tuples(arrays, st.booleans()).map(lambda t: _npz_of(*t)),  # a real .npz with the wrong arrays
    st.binary(max_size=300),
)


@FUZZ
@_examples([b"", b"x,y\n1,2\n", GOOD_DATA[0][:100], GOOD_DATA[1][:-1], b"\x93NUMPY", b"PK\x05\x06" + bytes(18)])
@given(blob=dataset_files)
def test_any_bytes_as_a_dataset_are_refused_with_a_dataset_error(blob):
    try:
        data = rt.Dataset.from_npz_bytes(blob)
    except DatasetError as exc:
        _one_line(exc)
    else:
        assert data.x.ndim == 2 and len(data.y) == len(data.x)


@FUZZ
@given(blob=dataset_files, name=st.sampled_from(["data.npz", "data.csv", "x.npy"]))
def test_every_dataset_reader_refuses_a_bad_file_naming_it(tmp_path_factory, blob, name):
    """The readers a spec's dataset goes through: a file (relative or absolute) and a CID in the content store."""
    folder = tmp_path_factory.mktemp("data")
    (folder / name).write_bytes(blob)
    store = LocalStore(folder / "store")
    cid = store.put(blob)
    for ref, read in (
        (str(folder / name), read_dataset_file),
        (str(folder / name), load_dataset),
        ("cid:" + cid, lambda r: load_dataset(r, store)),
        ("cid:" + cid, lambda r: load_dataset(DatasetRef(r, standardize=True), store)),
    ):
        try:
            sub = read(ref)
        except DatasetError as exc:
            _one_line(exc)
            assert f"dataset {ref}:" in str(exc) and "allow_pickle" not in str(exc)
        else:
            assert sub.raw == blob or sub.record  # stored as given, or made (CSV, standardised) and recorded
            assert sub.data.x.abs().max().item() <= 16 * 2**16  # never clipped: refused or in range


def test_a_missing_dataset_or_cid_is_refused_naming_it(tmp_path):
    store = LocalStore(tmp_path / "store")
    elsewhere = LocalStore(tmp_path / "other").put(GOOD_DATA[0])
    for ref, st_ in (
        (str(tmp_path / "none.npz"), None),
        (str(tmp_path), None),
        ("cid:" + elsewhere, store),
        ("cid:" + elsewhere, None),
        ("cid:not-a-cid", store),
    ):
        try:
            load_dataset(ref, st_)
        except DatasetError as exc:
            _one_line(exc)
            assert f"dataset {ref}:" in str(exc)
        else:
            raise AssertionError(f"{ref} was read")


def test_dataset_with_nan_is_refused():
    buf = io.BytesIO()
    np.savez(buf, X=np.array([[np.nan, 1.0], [0.0, 1.0]]), y=np.array([0, 1]))
    try:
        rt.Dataset.from_npz_bytes(buf.getvalue())
    except ValueError as exc:
        assert "NaN" in str(exc) or "nan" in str(exc).lower()
    else:
        raise AssertionError("a dataset with NaN was accepted")


# CSV files as people write them: a header or not, cells that are numbers (in range or far out), blanks, words,
# NaN, ragged rows, quotes, other separators
csv_cells = st.one_of(
    st.integers(-40, 40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "abc", "1e400", "nan", "-inf", '"1"', '"a,b"', "0x10", "1,5", "\t2", "\x00", "é"]),
)
def _csv_examples(blobs):
    def decorate(fn):
        for blob in blobs:
            fn = example(blob=blob, label=None, standardize=False)(fn)
        return fn
    return decorate


csv_files = st.tuples(
    st.one_of(st.just(["a", "b", "label"]), st.lists(st.sampled_from(["a", "b", "label", "target", "", "1"]),
                                                     max_size=4)),
    st.lists(st.lists(csv_cells, min_size=0, max_size=4), max_size=8),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["\n", "\r\n"]),
).map(lambda t: t[3].join(t[2].join(r) for r in [t[0], *t[1]]).encode())


@FUZZ
@_csv_examples([b"", b"a,b,label\n", b"a,label\n1,0\n2,1\n", b"a,label\n1e9,0\n2,1\n", b"1,2\n3,4\n",
                b'a,label\n"1,0\n', b"a,label\n\x00,1\n", GOOD_DATA[0], b"\xef\xbb\xbf"])
@given(blob=st.one_of(csv_files, dataset_files), label=st.sampled_from([None, "label", "target"]),
       standardize=st.booleans())
def test_any_csv_is_read_or_refused_in_one_line_naming_it(tmp_path_factory, blob, label, standardize):
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    path.write_bytes(blob)
    try:
        sub = read_dataset_file(path, label=label, standardize=standardize)
    except DatasetError as exc:
        _one_line(exc)
        assert str(exc).startswith(f"dataset {path}: ") and "allow_pickle" not in str(exc)
    else:
        assert sub.record["from_csv"]["label"] == (label or "label")
        assert ("standardized" in sub.record) == standardize
        assert rt.Dataset.from_npz_bytes(sub.raw).x.tolist() == sub.data.x.tolist()


@FUZZ
@given(x=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=12, max_size=40),
       standardize=st.booleans())
def test_features_are_never_clipped_only_refused_with_the_numbers(x, standardize):
    """Any float column: accepted exactly as to_fixed puts it (nothing clipped), or refused naming the feature."""
    from trainyard.runtime.data import prepare_submission

    col = np.array(x)[:, None]
    try:
        sub = prepare_submission(_savez(False, X=col, y=np.arange(len(x)) % 2), "dataset d", standardize=standardize)
    except DatasetError as exc:
        _one_line(exc)
        assert "feature 0" in str(exc)
    else:
        assert sub.data.x.abs().max().item() <= 16 * 2**16
        if not standardize:
            assert np.abs(col).max() <= 16 + 2**-17  # in range before rounding


# spec files as users really have them: the example cut short, empty, another format, another format's magic bytes
EXAMPLE_TEXT = (Path(__file__).resolve().parents[2] / "examples" / "digits.yaml").read_bytes()
spec_files = st.one_of(
    st.integers(0, len(EXAMPLE_TEXT)).map(lambda n: EXAMPLE_TEXT[:n]),  # truncated
    st.just(b""),
    st.tuples(st.sampled_from(MAGICS), st.binary(max_size=200)).map(b"".join),
    st.sampled_from(GOOD_DATA),  # an .npz given as the spec
    csv_text,
    st.just(json.dumps(EXAMPLE).encode()),  # JSON is YAML: valid
    st.tuples(st.integers(0, len(EXAMPLE_TEXT) - 1), st.integers(1, 255)).map(  # a byte flipped
        lambda t: EXAMPLE_TEXT[: t[0]] + bytes([EXAMPLE_TEXT[t[0]] ^ t[1]]) + EXAMPLE_TEXT[t[0] + 1 :]
    ),
)


@FUZZ
@given(data=spec_files)
def test_any_spec_file_users_have_is_read_or_refused_in_one_line(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("spec") / "job.yaml"
    p.write_bytes(data)
    try:
        spec = load_spec(p)
    except SpecError as exc:
        _one_line(exc)
    else:
        assert spec.name and spec.layers


dataset_values = st.one_of(
    values,
    st.dictionaries(st.sampled_from(["path", "label", "standardize", "scale"]),
                    st.one_of(values, st.sampled_from(["data.csv", "data.npz", "sklearn:digits", "cid:x", True])),
                    max_size=4),
)


@FUZZ
@given(dataset=dataset_values)
def test_a_spec_with_any_dataset_value_is_accepted_or_refused_with_a_spec_error(tmp_path_factory, dataset):
    folder = tmp_path_factory.mktemp("ds")
    (folder / "data.csv").write_bytes(b"a,label\n1,0\n")
    (folder / "data.npz").write_bytes(GOOD_DATA[0])
    try:
        spec = parse_spec(dict(EXAMPLE, dataset=dataset), base_dir=folder)
    except SpecError as exc:
        _one_line(exc)
    else:
        assert spec.dataset.label is None or spec.dataset.is_csv
