"""Which market a command talks to, decided without a chain: TRAINYARD_MARKET is looked up (the file is then not
read), else the deployments file; a home with neither gets one line naming both settings."""

import json

import pytest

from trainyard.config import Settings
from trainyard.deployments import market_address, resolve
from trainyard.errors import ConfigError

MARKET = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
FILE_ADDRESSES = {"JobMarket": "0x5FbDB2315678afecb367f032d93F642f64180aa3"}


def _settings(tmp_path, monkeypatch, **env):
    for name in ("TRAINYARD_MARKET", "TRAINYARD_DEPLOYMENTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env(home=tmp_path / "home")


def _no_lookup(market):
    raise AssertionError("the chain must not be asked")


def test_resolve_with_market_set_looks_it_up_and_ignores_the_file(tmp_path, monkeypatch):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "deployments.json").write_text(json.dumps({"31337": FILE_ADDRESSES}))
    s = _settings(tmp_path, monkeypatch, TRAINYARD_MARKET=MARKET.lower())
    asked = []
    got = resolve(s, 31337, lambda m: asked.append(m) or {"JobMarket": m})
    assert asked == [MARKET] and got == {"JobMarket": MARKET}  # checksummed before the lookup


def test_resolve_without_market_reads_the_deployments_file(tmp_path, monkeypatch):
    path = tmp_path / "elsewhere.json"
    path.write_text(json.dumps({"31337": FILE_ADDRESSES}))
    s = _settings(tmp_path, monkeypatch, TRAINYARD_DEPLOYMENTS=str(path))
    assert resolve(s, 31337, _no_lookup) == FILE_ADDRESSES


@pytest.mark.parametrize("content", [None, json.dumps({"1": FILE_ADDRESSES}), "[]"])
def test_resolve_in_a_home_without_deployments_names_both_settings_in_one_line(tmp_path, monkeypatch, content):
    s = _settings(tmp_path, monkeypatch)
    if content is not None:
        s.deployments.parent.mkdir(parents=True)
        s.deployments.write_text(content)
    with pytest.raises(ConfigError) as err:
        resolve(s, 31337, _no_lookup)
    msg = str(err.value)
    assert msg.startswith("this home has no deployments for chain 31337")
    assert "TRAINYARD_DEPLOYMENTS=<the deployer's file>" in msg and "TRAINYARD_MARKET=<address>" in msg
    assert "deploy a new market with `trainyard deploy`" in msg and "\n" not in msg


@pytest.mark.parametrize("text", ["0x1234", "market", "0x" + "g" * 40])
def test_market_address_refuses_what_is_not_an_address(text):
    with pytest.raises(ConfigError, match="is not an address"):
        market_address(text)
