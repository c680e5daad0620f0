"""The `trainyard` command line against a real Anvil: clear one-line errors with exit code 2 and no
transaction for bad input; the money verbs move what they say."""

import re
from pathlib import Path

import pytest
import yaml

from trainyard.cli import main
from trainyard.devnet import advance_time, dev_keys

ETH = 10**18
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits.yaml"


@pytest.fixture
def env(devnet, tmp_path, monkeypatch):
    keys = dev_keys(3)
    monkeypatch.setenv("TRAINYARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TRAINYARD_RPC_URL", devnet.url)
    monkeypatch.setenv("TRAINYARD_PRIVATE_KEY", keys[0])
    assert main(["deploy"]) == 0
    monkeypatch.setenv("TRAINYARD_PRIVATE_KEY", keys[1])
    return keys


def _nonce(devnet, key):
    from eth_account import Account
    from web3 import Web3

    return Web3(Web3.HTTPProvider(devnet.url)).eth.get_transaction_count(Account.from_key(key).address)


def _spec(tmp_path, **market):
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["market"].update(market)
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_submit_bad_spec_exits_2_with_one_line_and_sends_nothing(env, devnet, tmp_path, capsys):
    before = _nonce(devnet, env[1])
    assert main(["submit", str(_spec(tmp_path, max_price="lots"))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: market.max_price") and err.count("\n") == 1
    assert _nonce(devnet, env[1]) == before


def test_submit_a_17_layer_model_exits_2_with_the_limit_and_sends_nothing(env, devnet, tmp_path, capsys):
    """OneStep cannot dispute more than 16 layers: the submitter hears it with the numbers before any transaction
    (postJob would refuse it too, with OneStepUnsupported)."""
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["model"]["layers"] = [64] + [8] * 16 + [10]
    path = tmp_path / "deep.yaml"
    path.write_text(yaml.safe_dump(doc))
    before = _nonce(devnet, env[1])
    assert main(["submit", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: model.layers: at most 16 layers (17 widths)") and "got 17 layers" in err
    assert err.count("\n") == 1 and _nonce(devnet, env[1]) == before


def test_submit_with_malformed_key_exits_2_without_printing_the_key(env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRAINYARD_PRIVATE_KEY", "0xdeadbeef")
    assert main(["submit", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err
    assert "TRAINYARD_PRIVATE_KEY is not a valid private key" in err and "deadbeef" not in err


def test_submit_without_funds_exits_2_and_sends_nothing(env, devnet, tmp_path, monkeypatch, capsys):
    poor = "0x" + "11" * 32
    monkeypatch.setenv("TRAINYARD_PRIVATE_KEY", poor)
    assert main(["submit", str(EXAMPLE)]) == 2
    assert "escrows" in capsys.readouterr().err
    assert _nonce(devnet, poor) == 0


def test_submit_status_cancel_claim(env, tmp_path, capsys):
    assert main(["submit", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "job 1 posted" in out and "public" in out
    assert main(["status", "1"]) == 0
    out = capsys.readouterr().out
    assert "bidding" in out and "no solver has" in out and "JobPosted" in out
    # human units: the spec's name, model and dataset; ETH, durations and local times, never raw structs or wei
    assert "digits-mlp: MLP 64-64-10, dataset baf" in out and "escrow held now 0.5 ETH" in out
    assert "maxPrice=0.5 ETH" in out and "bidPeriod=10 min 0 s" in out and "AttributeDict" not in out
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "bidding" in out and "<= 0.5 ETH" in out
    assert main(["cancel", "1"]) == 0
    assert main(["status", "1"]) == 0
    out = capsys.readouterr().out
    assert "cancelled" in out and "escrow held now 0 ETH" in out
    assert main(["status"]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert "cancelled" in row and " 0 ETH " in row  # the escrow is a credit now, not held by the job
    assert main(["claim"]) == 0
    assert "claimed 0.5 ETH" in capsys.readouterr().out


def test_status_of_unknown_job_exits_2(env, capsys):
    assert main(["status", "7"]) == 2
    assert "there is no job 7" in capsys.readouterr().err


def test_stake_deposit_withdraw_after_unbonding(env, devnet, capsys):
    assert main(["stake", "deposit", "1.5"]) == 0
    assert "free:      1.5 ETH" in capsys.readouterr().out
    assert main(["stake", "withdraw", "0.5"]) == 0
    out = capsys.readouterr().out
    # 7 days from the request's block; the reader's clock may already be a few seconds past that block
    assert re.search(r"requested; it can be withdrawn in (7 d 0 h|6 d 23 h) \(", out) and "timestamp" not in out
    assert main(["stake", "withdraw"]) == 2  # still unbonding
    assert re.search(r"unbonds in (7 d 0 h|6 d 23 h) \(", capsys.readouterr().err)
    from web3 import Web3

    advance_time(Web3(Web3.HTTPProvider(devnet.url)), 8 * 24 * 3600)
    assert main(["stake", "withdraw"]) == 0
    out = capsys.readouterr().out
    assert "withdrew 0.5 ETH to " in out  # a line that says it happened
    assert "free:      1 ETH" in out and "unbonding: 0 ETH" in out


def test_poke_refunds_a_job_nobody_bid_on(env, devnet, capsys):
    assert main(["submit", str(EXAMPLE)]) == 0
    from web3 import Web3

    advance_time(Web3(Web3.HTTPProvider(devnet.url)), 3600)
    assert main(["poke", "1"]) == 0
    assert main(["status", "1"]) == 0
    assert "no valid bid" in capsys.readouterr().out


def test_cancel_someone_elses_job_exits_2_with_decoded_error(env, monkeypatch, capsys):
    assert main(["submit", str(EXAMPLE)]) == 0
    monkeypatch.setenv("TRAINYARD_PRIVATE_KEY", env[2])
    assert main(["cancel", "1"]) == 2
    assert "JobMarket" in capsys.readouterr().err


def test_unreachable_node_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRAINYARD_RPC_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("TRAINYARD_HOME", str(tmp_path))
    assert main(["status"]) == 2
    assert "cannot reach an Ethereum node" in capsys.readouterr().err


def test_account_new_import_list_never_print_the_key(tmp_path, monkeypatch, capsys):
    import io

    monkeypatch.setenv("TRAINYARD_HOME", str(tmp_path))
    monkeypatch.setenv("TRAINYARD_KEYSTORE_PASSWORD", "correct horse")
    key = dev_keys(1)[0]
    monkeypatch.setattr("sys.stdin", io.StringIO(key + "\n"))
    assert main(["account", "import"]) == 0
    out = capsys.readouterr().out
    assert "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" in out and key not in out
    assert main(["account", "import"]) == 2  # already there (stdin is empty now: also not a key)
    capsys.readouterr()
    assert main(["account", "new"]) == 0
    capsys.readouterr()
    assert main(["account", "list"]) == 0
    listed = capsys.readouterr().out
    assert listed.count(".json") == 2  # the imported one and the new one
    path = next((tmp_path / "keystore").glob("f39f*.json"))
    monkeypatch.delenv("TRAINYARD_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("TRAINYARD_KEYSTORE", str(path))
    from trainyard.config import Settings

    assert Settings.from_env().account().address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    monkeypatch.setenv("TRAINYARD_KEYSTORE_PASSWORD", "wrong")
    from trainyard.errors import ConfigError

    with pytest.raises(ConfigError, match="wrong password"):
        Settings.from_env().account()
