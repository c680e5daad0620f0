"""`trainyard submit` on a spec whose dataset file (or the spec text itself) is bad input: exit code 2, one line on
stderr naming the file and what is wrong, no traceback, and no transaction sent. A `cid:` dataset is read from the
content store. One Anvil and one deployment for the module (each test has its own spec folder)."""

import io
from pathlib import Path

import numpy as np
import pytest
import yaml

from trainyard import runtime as rt
from trainyard.cli import main
from trainyard.devnet import Devnet, dev_keys
from trainyard.store import LocalStore

EXAMPLE = yaml.safe_load((Path(__file__).resolve().parents[2] / "examples" / "digits.yaml").read_text())


def _npz(compressed: bool = False) -> bytes:
    x, y = np.random.default_rng(1).random((40, 64)), np.arange(40) % 10
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, X=x, y=y)
    return buf.getvalue()


def _npy() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.zeros((4, 64)))
    return buf.getvalue()


# the dataset files users really hand in by mistake: (file name, bytes, words the error must contain)
BAD_FILES = {
    "truncated": ("data.npz", _npz()[:700], "truncated"),
    "truncated-compressed": ("data.npz", _npz(compressed=True)[:-40], "truncated"),
    "empty": ("data.npz", b"", "empty"),
    "csv-named-npz": ("data.npz", b"x1,x2,label\n0.5,0.25,1\n0.75,0.5,0\n", "CSV"),
    "csv-not-a-number": ("data.csv", b"x1,x2,label\n0.5,0.25,1\n0.75,abc,0\n", "row 3, column 'x2': 'abc'"),
    "csv-no-header": ("data.csv", b"0.5,0.25,1\n0.75,0.5,0\n", "header row"),
    "csv-beyond-range": ("data.csv", b"x,label\n" + b"".join(b"%d,%d\n" % (i * 300, i % 2) for i in range(20)),
                         "feature 0 ('x') ranges from 0 to 5700, outside the \u00b116"),
    "npy": ("data.npy", _npy(), ".npy"),
    "gzip": ("data.npz.gz", b"\x1f\x8b\x08\x00" + bytes(60), "gzip"),
    "png": ("data.npz", b"\x89PNG\r\n\x1a\n" + bytes(60), "PNG"),
    "no-y": ("data.npz", None, "no y"),
}


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    keys = dev_keys(2)
    home = tmp_path_factory.mktemp("home")
    with Devnet() as net, pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRAINYARD_HOME", str(home))
        mp.setenv("TRAINYARD_RPC_URL", net.url)
        mp.setenv("TRAINYARD_PRIVATE_KEY", keys[0])
        mp.delenv("TRAINYARD_STORE", raising=False)
        mp.delenv("TRAINYARD_IPFS_API", raising=False)
        mp.delenv("TRAINYARD_GATEWAYS", raising=False)
        mp.delenv("TRAINYARD_DEPLOYMENTS", raising=False)
        assert main(["deploy"]) == 0
        yield net, home, keys[1]


@pytest.fixture
def env(node, monkeypatch):
    net, home, key = node
    for name, value in (("TRAINYARD_HOME", str(home)), ("TRAINYARD_RPC_URL", net.url), ("TRAINYARD_PRIVATE_KEY", key)):
        monkeypatch.setenv(name, value)
    for name in ("TRAINYARD_STORE", "TRAINYARD_IPFS_API", "TRAINYARD_GATEWAYS", "TRAINYARD_DEPLOYMENTS"):
        monkeypatch.delenv(name, raising=False)
    return net, LocalStore(home / "store")


def _nonce(net):
    from eth_account import Account
    from web3 import Web3

    return Web3(Web3.HTTPProvider(net.url)).eth.get_transaction_count(Account.from_key(dev_keys(2)[1]).address)


def _spec(folder: Path, dataset: str) -> Path:
    doc = dict(EXAMPLE, dataset=dataset)
    path = folder / "job.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _submit_refused(net, spec: Path, capsys) -> str:
    before = _nonce(net)
    assert main(["submit", str(spec)]) == 2
    out = capsys.readouterr()
    assert out.err.startswith("error: ") and out.err.count("\n") == 1, out.err
    assert "Traceback" not in out.err and out.out == ""
    assert _nonce(net) == before  # nothing was sent
    return out.err


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_submit_with_a_bad_dataset_file_exits_2_with_one_line(env, tmp_path, capsys, kind):
    name, raw, words = BAD_FILES[kind]
    if raw is None:  # a real .npz, but without labels
        buf = io.BytesIO()
        np.savez(buf, X=np.zeros((10, 64)))
        raw = buf.getvalue()
    (tmp_path / name).write_bytes(raw)
    err = _submit_refused(env[0], _spec(tmp_path, name), capsys)
    assert str(tmp_path / name) in err and words in err


def test_submit_with_a_cid_dataset_not_in_the_store_exits_2_naming_it(env, tmp_path, capsys):
    cid = LocalStore(tmp_path / "elsewhere").put(_npz())  # a real CID, but not in the submitter's store
    err = _submit_refused(env[0], _spec(tmp_path, "cid:" + cid), capsys)
    assert f"dataset cid:{cid}" in err


def test_submit_with_a_cid_of_bytes_that_are_no_dataset_exits_2_naming_it(env, tmp_path, capsys):
    cid = env[1].put(b"x1,x2,label\n0.5,0.25,1\n")
    err = _submit_refused(env[0], _spec(tmp_path, "cid:" + cid), capsys)
    assert f"dataset cid:{cid}" in err and "CSV" in err


def test_submit_with_a_cid_dataset_in_the_store_posts_the_job_on_those_bytes(env, tmp_path, capsys):
    raw = rt.digits_dataset().to_npz_bytes()
    cid = env[1].put(raw)
    assert main(["submit", str(_spec(tmp_path, "cid:" + cid))]) == 0
    out = capsys.readouterr().out
    assert "posted" in out
    spec_cid = out.split(" spec ")[1].split()[0]
    import json

    assert json.loads(env[1].get(spec_cid))["dataset"]["cid"] == cid  # the job names the very same bytes


@pytest.mark.parametrize("text", ["?", "1: 2", "~: x", "true: 1", "name: x\nmodel: {1: 2}\n", "[[[" * 400])
def test_submit_with_spec_text_that_is_no_mapping_of_names_exits_2(env, tmp_path, capsys, text):
    spec = tmp_path / "job.yaml"
    spec.write_text(text)
    err = _submit_refused(env[0], spec, capsys)
    assert str(spec) in err or "spec" in err
