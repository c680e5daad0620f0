"""`trainyard submit --dry-run` against a real Anvil: every check `submit` makes (the contract's own by a simulated
postJob), what would be posted printed, exit 0; or one line and exit 2. Nothing is stored and no transaction is sent
(the account's nonce is unchanged, no job exists)."""

from pathlib import Path

import pytest
import yaml

from trainyard.cli import main
from trainyard.devnet import Devnet, dev_keys, free_port

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits.yaml"


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    keys = dev_keys(2)
    home = tmp_path_factory.mktemp("home")
    with Devnet() as net, pytest.MonkeyPatch.context() as mp:
        for name in ("TRAINYARD_STORE", "TRAINYARD_IPFS_API", "TRAINYARD_GATEWAYS", "TRAINYARD_DEPLOYMENTS"):
            mp.delenv(name, raising=False)
        mp.setenv("TRAINYARD_HOME", str(home))
        mp.setenv("TRAINYARD_RPC_URL", net.url)
        mp.setenv("TRAINYARD_PRIVATE_KEY", keys[0])
        assert main(["deploy"]) == 0
        yield net, home, keys[1]


@pytest.fixture
def env(node, monkeypatch):
    net, home, key = node
    for name, value in (("TRAINYARD_HOME", str(home)), ("TRAINYARD_RPC_URL", net.url), ("TRAINYARD_PRIVATE_KEY", key)):
        monkeypatch.setenv(name, value)
    for name in ("TRAINYARD_STORE", "TRAINYARD_IPFS_API", "TRAINYARD_GATEWAYS", "TRAINYARD_DEPLOYMENTS"):
        monkeypatch.delenv(name, raising=False)
    return net, home, key


def _nonce(url: str, key: str) -> int:
    from eth_account import Account
    from web3 import Web3

    return Web3(Web3.HTTPProvider(url)).eth.get_transaction_count(Account.from_key(key).address)


def _jobs(url: str, home: Path) -> int:
    import json

    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(url))
    address = json.loads((home / "deployments.json").read_text())[str(w3.eth.chain_id)]["JobMarket"]
    return len(w3.eth.get_logs({"address": address, "fromBlock": 0}))


def _stored(home: Path) -> int:
    return sum(1 for p in (home / "store").rglob("*") if p.is_file()) if (home / "store").exists() else 0


def _spec(tmp_path: Path, **market) -> Path:
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["market"].update(market)
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _dry(args, env, capsys, code):
    net, home, key = env
    before = (_nonce(net.url, key), _jobs(net.url, home), _stored(home))
    assert main(["submit", *args, "--dry-run"]) == code
    out = capsys.readouterr()
    assert (_nonce(net.url, key), _jobs(net.url, home), _stored(home)) == before  # nothing sent, nothing stored
    assert "Traceback" not in out.err
    return out


def test_dry_run_prints_what_it_would_post_and_sends_nothing(env, capsys):
    out = _dry([str(EXAMPLE), "--verification-fee", "0.01"], env, capsys, 0).out
    assert "data:     sklearn:digits: 1797 rows (" in out and "64 features, 10 classes" in out
    assert "would post: escrow 0.5 ETH (max_price), stake per bid 1 ETH, verification fee 0.01 ETH" in out
    assert "periods:  bid 10m, reveal 10m, train 2h, challenge 30m" in out
    assert "1000 steps in 4 windows of 250" in out
    assert f"node:     {env[0].url} (chain " in out and "postJob would pass, using about" in out
    assert " ETH; postJob" in out  # the balance in ETH, not in wei
    assert out.rstrip().endswith("dry run: nothing stored, nothing posted")


def test_dry_run_then_submit_posts_the_same_spec_cid(env, capsys):
    dry = _dry([str(EXAMPLE)], env, capsys, 0).out
    cid = dry.split("spec ")[1].split()[0]
    assert main(["submit", str(EXAMPLE)]) == 0
    assert f"spec {cid}" in capsys.readouterr().out


def test_dry_run_of_a_csv_with_standardisation_says_so(env, tmp_path, capsys):
    rows = "".join(f"{i * 100},{i % 7},{i % 3}\n" for i in range(60))
    (tmp_path / "data.csv").write_text("a,b,target\n" + rows)
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["dataset"] = {"path": "data.csv", "label": "target", "standardize": True}
    doc["model"]["layers"] = [2, 8, 3]
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(doc))
    out = _dry([str(tmp_path / "job.yaml")], env, capsys, 0).out
    assert "60 rows" in out
    assert "2 features, 3 classes; standardised on the train rows; CSV, label column 'target'" in out


def test_dry_run_with_too_little_balance_exits_2_in_one_line(env, monkeypatch, capsys):
    poor = "0x" + "22" * 32
    monkeypatch.setenv("TRAINYARD_PRIVATE_KEY", poor)
    out = _dry([str(EXAMPLE)], (env[0], env[1], poor), capsys, 2)
    assert out.err.startswith("error: ") and out.err.count("\n") == 1 and "holds 0 wei but the job escrows" in out.err
    assert out.out == ""


def test_dry_run_with_a_feature_beyond_the_range_exits_2_with_the_numbers(env, tmp_path, capsys):
    (tmp_path / "data.csv").write_text("x,label\n" + "".join(f"{i * 300},{i % 2}\n" for i in range(20)))
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["dataset"] = "data.csv"
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(doc))
    out = _dry([str(tmp_path / "job.yaml")], env, capsys, 2)
    assert "feature 0 ('x') ranges from 0 to 5700, outside the ±16" in out.err and out.err.count("\n") == 1


def test_dry_run_refuses_a_spec_the_contract_would_refuse(env, tmp_path, capsys):
    out = _dry([str(_spec(tmp_path, bid_period="5m"))], env, capsys, 2)
    assert "market.bid_period: must be between 10m and 30d" in out.err


def test_dry_run_on_a_node_without_the_contracts_exits_2(env, capsys, monkeypatch):
    """The deployments file names contracts a fresh devnet (same chain id) does not have: a restarted devnet."""
    with Devnet() as other:
        monkeypatch.setenv("TRAINYARD_RPC_URL", other.url)
        before = _nonce(other.url, env[2])
        assert main(["submit", str(EXAMPLE), "--dry-run"]) == 2
        err = capsys.readouterr().err
        assert "no contract at" in err and err.count("\n") == 1 and _nonce(other.url, env[2]) == before


def test_dry_run_without_a_node_checks_the_rest_and_says_what_it_skipped(env, capsys, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"  # nobody listens
    monkeypatch.setenv("TRAINYARD_RPC_URL", url)
    stored = _stored(env[1])
    assert main(["submit", str(EXAMPLE), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"node:     none answers at {url}: the node, the deployments and the balance are not checked" in out
    assert "would post: escrow 0.5 ETH" in out and _stored(env[1]) == stored


def test_a_cid_dataset_is_read_through_the_gateways_the_cli_has(env, tmp_path, capsys, monkeypatch):
    """`dataset: cid:<CID>` of data only another agent's store holds, served over HTTP and named in
    TRAINYARD_GATEWAYS: read (and checked against its CID) instead of taken for a local path."""
    from trainyard import runtime as rt
    from trainyard.gateway import Gateway
    from trainyard.store import LocalStore

    other = LocalStore(tmp_path / "elsewhere")
    digits = rt.digits_dataset()  # 500 of its rows: bytes no other test of the module stored
    cid = other.put(rt.Dataset.from_arrays(digits.x[:500].numpy(), digits.y[:500].numpy()).to_npz_bytes())
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["dataset"] = "cid:" + cid
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(doc))
    out = _dry([str(tmp_path / "job.yaml")], env, capsys, 2)  # no gateway: not in the store, and says what to do
    assert f"dataset cid:{cid}" in out.err and "TRAINYARD_GATEWAYS" in out.err and out.err.count("\n") == 1
    gw = Gateway(other, port=free_port()).start()
    try:
        monkeypatch.setenv("TRAINYARD_GATEWAYS", gw.url)
        out = _dry([str(tmp_path / "job.yaml")], env, capsys, 0)
    finally:
        gw.stop()
    assert f"would store: dataset {cid}," in out.out and "500 rows" in out.out
