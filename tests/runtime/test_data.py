"""A submitter's dataset made ready to store (trainyard.runtime.data, trainyard.spec.load_dataset): CSV files with
their errors naming row and column, the refusal of values fixed point would clip, and explicit standardisation,
recorded so the stored data can be recomputed. Pure logic: no chain."""

import io
import json

import numpy as np
import pytest
import yaml

from trainyard.errors import DatasetError, SpecError
from trainyard.runtime.data import LIMIT, Dataset, default_test_mask
from trainyard.runtime.fixed import ONE, to_fixed
from trainyard.spec import DatasetRef, canonical_json, load_dataset, load_spec, parse_document
from trainyard.store import LocalStore
from trainyard.submitter import prepare

SPEC = """name: csv-job
model: {arch: mlp, layers: [%d, 8, 3]}
dataset: %s
training: {steps: 20, checkpoint_interval: 10, batch_size: 4, learning_rate: 0.05, seed: 1}
market: {max_price: 0.1 ether, stake_per_bid: 1 ether, bid_period: 10m, reveal_period: 10m, train_period: 1h,
         challenge_period: 30m}
"""


def _csv(rows, header=("a", "b", "target")) -> bytes:
    lines = [",".join(map(str, header))] + [",".join(str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


ROWS = [(i / 10, (i % 7) - 3, i % 3) for i in range(40)]


def _load(tmp_path, raw: bytes, name="data.csv", **opts):
    (tmp_path / name).write_bytes(raw)
    return load_dataset(DatasetRef(str(tmp_path / name), **opts))


def test_csv_with_a_label_column_is_read_into_features_and_labels(tmp_path):
    sub = _load(tmp_path, _csv(ROWS), label="target")
    assert sub.data.x.shape == (40, 2) and sub.data.y.tolist() == [r[2] for r in ROWS]
    assert sub.data.x[:, 0].tolist() == to_fixed(np.array([r[0] for r in ROWS])).tolist()
    assert sub.record == {"from_csv": {"label": "target", "features": ["a", "b"]}}
    assert Dataset.from_npz_bytes(sub.raw).x.tolist() == sub.data.x.tolist()  # stored as the canonical .npz


def test_csv_label_column_anywhere_and_named_label_by_default(tmp_path):
    raw = _csv([(r[2], r[0], r[1]) for r in ROWS], header=("label", "a", "b"))
    sub = _load(tmp_path, raw)
    assert sub.data.y.tolist() == [r[2] for r in ROWS] and sub.record["from_csv"]["features"] == ["a", "b"]


@pytest.mark.parametrize(
    "raw,label,words",
    [
        (_csv(ROWS), None, "no column 'label' (columns: a, b, target): name the label column"),
        (_csv(ROWS), "y", "no column 'y'"),
        (_csv([*ROWS[:3], (1, "abc", 0)]), "target", "row 5, column 'b': 'abc' is not a number"),
        (_csv([*ROWS[:3], (1, "", 0)]), "target", "row 5, column 'b': an empty cell is not a number"),
        (_csv([*ROWS[:3], (1, "nan", 0)]), "target", "row 5, column 'b': 'nan' is not a finite number"),
        (_csv([*ROWS[:3], (1, 2, 1.5)]), "target", "row 5, column 'target': '1.5' is not a class label"),
        (_csv([*ROWS[:3], (1, 2, -1)]), "target", "row 5, column 'target': '-1' is not a class label"),
        (_csv([*ROWS[:3], (1, 2)]), "target", "row 5: 2 values, the header has 3 columns"),
        (_csv(ROWS[1:], header=(0, -3, 0)), "target", "needs a header row"),
        (_csv(ROWS, header=("a", "a", "target")), "target", "name every column once"),
        (_csv([(0,)], header=("target",)), "target", "at least one feature column"),
        (b"", None, "the file is empty"),
        (b"\n\n", None, "the file is empty"),
        (b"PK\x03\x04" + bytes(30), None, "zip archive (an .npz? then name it .npz), not a CSV"),
        (b"\x89PNG\r\n\x1a\n" + bytes(8), None, "PNG image, not a CSV"),
        (b"a,b,label\n\xff\xfe,1,0\n", None, "is not UTF-8"),
    ],
)
def test_a_bad_csv_is_refused_in_one_line_naming_row_and_column(tmp_path, raw, label, words):
    with pytest.raises(DatasetError) as exc:
        _load(tmp_path, raw, label=label)
    msg = str(exc.value)
    assert msg.startswith(f"dataset {tmp_path / 'data.csv'}: ") and words in msg and "\n" not in msg, msg
    assert "allow_pickle" not in msg


def test_a_csv_named_npz_never_reaches_numpys_pickle_message(tmp_path):
    with pytest.raises(DatasetError) as exc:
        _load(tmp_path, _csv(ROWS), name="data.npz")
    assert "CSV" in str(exc.value) and "pickle" not in str(exc.value)  # no numpy allow_pickle message


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_a_feature_beyond_the_fixed_point_range_is_refused_with_its_numbers(tmp_path):
    x = np.random.default_rng(1).random((30, 3))
    x[4, 1] = 4254.0
    with pytest.raises(DatasetError) as exc:
        _load(tmp_path, _npz(X=x, y=np.arange(30) % 2), name="data.npz")
    msg = str(exc.value)
    assert f"feature 1 ranges from {x[:, 1].min():.6g} to 4254, outside the ±16" in msg
    assert "would be clipped" in msg and "standardize: true" in msg


def test_a_csv_feature_beyond_the_range_is_named_by_its_column(tmp_path):
    rows = [(r[0] * -100, r[1], r[2]) for r in ROWS]
    with pytest.raises(DatasetError, match=r"feature 0 \('a'\) ranges from -390 to -0, outside the ±16"):
        _load(tmp_path, _csv(rows), label="target")


def test_values_exactly_at_the_limit_pass_and_just_beyond_are_refused(tmp_path):
    y = np.arange(10) % 2
    x = np.full((10, 1), LIMIT)
    x[0] = -LIMIT
    assert _load(tmp_path, _npz(X=x, y=y), name="ok.npz").data.x.abs().max().item() == LIMIT * ONE
    x[3] = LIMIT + 1 / ONE
    with pytest.raises(DatasetError, match="would be clipped"):
        _load(tmp_path, _npz(X=x, y=y), name="over.npz")


def test_standardize_uses_the_train_rows_and_is_recorded_to_be_reproducible(tmp_path):
    rng = np.random.default_rng(2)
    x = np.column_stack([rng.normal(4000, 300, 50), rng.normal(-2, 0.01, 50), np.full(50, 7.0)])
    y = np.arange(50) % 3
    raw = _npz(X=x, y=y)
    sub = _load(tmp_path, raw, name="data.npz", standardize=True)
    rec = sub.record["standardized"]
    train = ~default_test_mask(50)
    assert rec["fitted_on"] == "train rows"
    assert rec["mean"] == [float(m) for m in x[train].mean(axis=0)]
    assert rec["std"][:2] == [float(s) for s in x[train].std(axis=0)[:2]] and rec["std"][2] == 1.0  # constant
    # the record alone recomputes the stored data from the submitter's file
    again = to_fixed((x - np.array(rec["mean"])) / np.array(rec["std"]))
    assert Dataset.from_npz_bytes(sub.raw).x.tolist() == again.tolist() == sub.data.x.tolist()
    assert sub.raw != raw  # the standardised data is stored, not the file
    # and it survives the document's JSON exactly
    assert json.loads(canonical_json({"s": rec}))["s"] == rec


def test_standardize_refuses_an_outlier_still_beyond_the_range(tmp_path):
    x = np.zeros((400, 1))
    x[::2] = 1.0
    # one train row (default split) far out: with ~320 train rows it is ~sqrt(320) ≈ 18 standard deviations out
    x[int(np.argmin(default_test_mask(400)))] = 1e6
    with pytest.raises(DatasetError, match="after standardisation, outside the ±16"):
        _load(tmp_path, _npz(X=x, y=np.arange(400) % 2), name="data.npz", standardize=True)


def test_standardize_refuses_data_already_in_fixed_point(tmp_path):
    raw = _npz(X_fixed=np.zeros((10, 2), dtype=np.int64), y=np.arange(10) % 2)
    with pytest.raises(DatasetError, match="X_fixed"):
        _load(tmp_path, raw, name="data.npz", standardize=True)


def _spec(tmp_path, dataset: str, width: int = 2):
    (tmp_path / "job.yaml").write_text(SPEC % (width, dataset))
    return load_spec(tmp_path / "job.yaml")


def test_spec_dataset_mapping_names_csv_label_and_standardize(tmp_path):
    (tmp_path / "data.csv").write_bytes(_csv([(r[0] * 100, r[1], r[2]) for r in ROWS]))
    spec = _spec(tmp_path, "{path: data.csv, label: target, standardize: true}")
    assert spec.dataset == DatasetRef(str(tmp_path / "data.csv"), "target", True)
    store = LocalStore(tmp_path / "store")
    prepared = prepare(spec, store)
    doc = parse_document(prepared.document)
    assert doc["dataset"]["from_csv"]["label"] == "target" and "standardized" in doc["dataset"]
    stored = Dataset.from_npz_bytes(store.get(doc["dataset"]["cid"]))
    assert stored.x.tolist() == load_dataset(spec.dataset).data.x.tolist()


def test_a_plain_npz_spec_document_is_unchanged(tmp_path):
    (tmp_path / "data.npz").write_bytes(raw := _npz(X=np.zeros((10, 2)), y=np.arange(10) % 3))
    prepared = prepare(_spec(tmp_path, "data.npz"), LocalStore(tmp_path / "store"))
    assert json.loads(prepared.document)["dataset"] == {"cid": prepared.dataset_cid, "format": "npz"}
    assert LocalStore(tmp_path / "store").get(prepared.dataset_cid) == raw  # stored as given


@pytest.mark.parametrize(
    "dataset,words",
    [
        ("{path: data.npz, label: y}", "dataset.label: only a CSV file"),
        ("{path: data.csv, label: 3}", "dataset.label"),
        ("{path: data.csv, standardize: yes please}", "dataset.standardize: true or false"),
        ("{path: data.csv, scale: true}", "dataset: unknown key(s) scale"),
        ("{label: target}", "dataset.path"),
        ("{path: sklearn:digits, standardize: true}", "already scaled"),
        ("[data.csv]", "dataset: 'sklearn:digits', a path to an .npz or .csv file"),
        ("{path: none.csv}", "no file at"),
    ],
)
def test_a_bad_dataset_mapping_is_refused_naming_the_field(tmp_path, dataset, words):
    (tmp_path / "data.npz").write_bytes(b"x")
    (tmp_path / "data.csv").write_bytes(b"x")
    with pytest.raises(SpecError, match=None) as exc:
        _spec(tmp_path, dataset)
    assert words in str(exc.value), str(exc.value)


def test_example_spec_dataset_forms_parse(tmp_path):
    for form in ("sklearn:digits", "{path: sklearn:digits}"):
        doc = yaml.safe_load(SPEC % (64, form))
        assert doc["dataset"]
        assert _spec(tmp_path, form, 64).dataset == DatasetRef("sklearn:digits")


def test_a_solver_reads_a_standardised_csv_job_as_the_submitter_prepared_it(tmp_path):
    """The stored document and data give a solver the same dataset and the same spec hash as the submitter's."""
    from trainyard.jobs import JobState, JobView
    from trainyard.solver.agent import load_job

    (tmp_path / "data.csv").write_bytes(_csv([(r[0] * 100, r[1], r[2]) for r in ROWS]))
    spec = _spec(tmp_path, "{path: data.csv, label: target, standardize: true}")
    store = LocalStore(tmp_path / "store")
    p = prepare(spec, store)
    view = JobView(1, JobState.BIDDING, "0x" + "00" * 20, p.spec_hash, p.spec_cid, spec.market.max_price,
                   spec.market.stake_per_bid, spec.training.num_windows, 0, 0, 0, 0, 0, "", "", 0, 0, b"", 0, 0)
    _doc, _cfg, data = load_job(store, view)  # raises if the spec hash differs
    assert data.x.tolist() == p.data.x.tolist() and data.test.tolist() == p.data.test.tolist()
