"""Job-spec validation: bad input gets a clear error naming the field."""

import copy
from pathlib import Path

import pytest
import yaml

from trainyard.errors import SpecError
from trainyard.spec import canonical_json, load_spec, parse_amount, parse_duration, parse_spec, spec_hash

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits.yaml"


def base() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def test_example_spec_is_valid():
    spec = load_spec(EXAMPLE)
    assert spec.layers == (64, 64, 10)
    assert spec.market.max_price == 5 * 10**17
    assert spec.market.bid_period == 600
    assert spec.training.num_windows == 4


def test_spec_hash_is_stable_and_depends_on_content():
    spec = load_spec(EXAMPLE)
    a = canonical_json(spec.document("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"))
    b = canonical_json(spec.document("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"))
    assert spec_hash(a) == spec_hash(a) and spec_hash(a) != spec_hash(b) and len(spec_hash(a)) == 32


@pytest.mark.parametrize(
    "path,value,message",
    [
        (("name",), "has space", "name"),
        (("model", "arch"), "transformer", "model.arch"),
        (("model", "layers"), [64], "model.layers"),
        (("model", "layers"), [64, 1], "classes"),
        (("model", "layers"), [64, "x", 10], "model.layers"),
        (("dataset",), "sklearn:mnist", "dataset"),
        (("dataset",), "nope/missing.npz", "no file"),
        (("training", "steps"), 0, "training.steps"),
        (("training", "steps"), "100", "training.steps"),
        (("training", "checkpoint_interval"), 300, "must divide"),
        (("training", "batch_size"), -1, "training.batch_size"),
        (("training", "learning_rate"), "fast", "training.learning_rate"),
        (("training", "momentum"), 1.5, "training.momentum"),
        (("market", "max_price"), "0.5 bitcoin", "market.max_price"),
        (("market", "max_price"), 0, "more than zero"),
        (("market", "max_price"), "0.1 wei", "whole number"),
        (("market", "bid_period"), "ten minutes", "market.bid_period"),
        (("market", "bid_period"), 0, "market.bid_period"),
        (("market", "reveal_period"), "9m", "market.reveal_period: must be between 10m and 30d"),
        (("market", "train_period"), "31d", "market.train_period: must be between 10m and 30d"),
        (("market", "challenge_period"), 1, "market.challenge_period: must be between 10m and 30d"),
        (("market", "stake_per_bid"), "0.4 ether", "market.stake_per_bid: must be at least max_price"),
        (("training", "surprise"), 1, "unknown key"),
    ],
)
def test_bad_field_raises_spec_error_naming_it(path, value, message):
    doc = copy.deepcopy(base())
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(SpecError, match=message):
        parse_spec(doc, base_dir=EXAMPLE.parent)


def test_missing_market_field_is_named():
    doc = base()
    del doc["market"]["stake_per_bid"]
    with pytest.raises(SpecError, match="missing stake_per_bid"):
        parse_spec(doc)


@pytest.mark.parametrize("doc", [None, [], "text", 3])
def test_non_mapping_spec_is_rejected(doc):
    with pytest.raises(SpecError):
        parse_spec(doc)


def test_invalid_yaml_reports_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nmodel: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML at line"):
        load_spec(p)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(SpecError, match="cannot read spec"):
        load_spec(tmp_path / "nope.yaml")


def test_amounts_and_durations():
    assert parse_amount("1.5 ether", "x") == 15 * 10**17
    assert parse_amount("20 gwei", "x") == 20 * 10**9
    assert parse_amount(7, "x") == 7
    assert parse_duration("2h", "x") == 7200
    assert parse_duration(45, "x") == 45
    with pytest.raises(SpecError):
        parse_amount(True, "x")


@pytest.mark.parametrize(
    "path,value,message",
    [
        (("model", "layers"), [64] + [8] * 17 + [10], r"at most 16 layers \(17 widths\).*got 18 layers"),
        (("model", "layers"), [64, 65, 10], "every width must be at most 64.*got 65"),
        (("model", "layers"), [64, 32, 100], "every width must be at most 64.*got 100"),
        (("training", "batch_size"), 33, "training.batch_size: at most 32.*got 33"),
        (("training", "checkpoint_interval"), 1, "at least 2 steps per window.*got 1"),
    ],
)
def test_a_job_no_dispute_could_settle_is_refused_with_the_numbers(path, value, message):
    """The same limits as OneStep.checkLimits (tests/market/test_job_market.py checks they agree on chain): a
    17-layer model, a width above 64, a batch above 32, a window of one step."""
    doc = copy.deepcopy(base())
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    if path[-1] == "checkpoint_interval":
        doc["training"]["steps"] = 4
    with pytest.raises(SpecError, match=message):
        parse_spec(doc, base_dir=EXAMPLE.parent)


def test_a_17_layer_job_is_refused_and_16_layers_pass():
    doc = copy.deepcopy(base())
    doc["model"]["layers"] = [64] + [8] * 15 + [10]  # 16 layers
    assert len(parse_spec(doc, base_dir=EXAMPLE.parent).layers) == 17
    doc["model"]["layers"] = [64] + [8] * 16 + [10]  # 17 layers
    with pytest.raises(SpecError, match="at most 16 layers"):
        parse_spec(doc, base_dir=EXAMPLE.parent)
