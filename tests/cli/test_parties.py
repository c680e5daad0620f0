"""Parties with homes of their own on one devnet: the deployer's home has the deployments file; another home finds
the market from TRAINYARD_MARKET alone (the other addresses read on chain), or is told in one line how to."""

import pytest

from trainyard.chain import Chain
from trainyard.cli import main
from trainyard.config import read_deployments
from trainyard.deployments import from_market
from trainyard.devnet import dev_keys
from trainyard.errors import ConfigError


@pytest.fixture
def deployed(devnet, tmp_path, monkeypatch, capsys):
    """A market deployed from the deployer's home; the test then runs as another party with a home of its own."""
    keys = dev_keys(2)
    for name in ("TRAINYARD_MARKET", "TRAINYARD_DEPLOYMENTS", "TRAINYARD_GATEWAYS", "TRAINYARD_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRAINYARD_RPC_URL", devnet.url)
    monkeypatch.setenv("TRAINYARD_HOME", str(tmp_path / "deployer"))
    monkeypatch.setenv("TRAINYARD_PRIVATE_KEY", keys[0])
    assert main(["deploy"]) == 0
    monkeypatch.setenv("TRAINYARD_HOME", str(tmp_path / "party"))
    monkeypatch.setenv("TRAINYARD_PRIVATE_KEY", keys[1])
    return read_deployments(tmp_path / "deployer" / "deployments.json", 31337)


def test_deploy_prints_the_market_setting_for_the_other_parties(deployed, capsys):
    assert f"export TRAINYARD_MARKET={deployed['JobMarket']}" in capsys.readouterr().out


def test_from_market_reads_every_address_the_deployer_wrote(deployed, devnet):
    assert from_market(Chain(devnet.url, {}), deployed["JobMarket"]) == deployed


def test_a_party_with_its_own_home_and_market_set_uses_that_market(deployed, monkeypatch, capsys):
    monkeypatch.setenv("TRAINYARD_MARKET", deployed["JobMarket"])
    assert main(["stake", "deposit", "1"]) == 0
    assert "free:      1 ETH" in capsys.readouterr().out
    assert main(["status"]) == 0


def test_a_party_with_its_own_home_and_no_setting_is_told_both_fixes_and_deploys_nothing(deployed, capsys):
    capsys.readouterr()
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: this home has no deployments for chain 31337") and err.count("\n") == 1
    assert "TRAINYARD_MARKET=<address>" in err and "TRAINYARD_DEPLOYMENTS=" in err


def test_market_set_to_an_account_without_code_says_so(deployed, devnet):
    from eth_account import Account

    someone = Account.from_key(dev_keys(1)[0]).address
    with pytest.raises(ConfigError, match="no contract at TRAINYARD_MARKET"):
        from_market(Chain(devnet.url, {}), someone)


def test_market_set_to_another_contract_is_not_a_market(deployed, devnet):
    with pytest.raises(ConfigError, match="is not a Trainyard JobMarket"):
        from_market(Chain(devnet.url, {}), deployed["Staking"])
