"""The chain client against a flaky node: a proxy in front of Anvil refuses connections, loses answers after
forwarding, or lets another transaction take our nonce. Reads retry, a send whose answer was lost is not sent twice,
a taken nonce is repaired, a node that stays down and a restarted devnet are reported in one line a person can act
on."""

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from eth_account import Account

from trainyard.chain import Chain
from trainyard.deploy import deploy
from trainyard.devnet import Devnet, dev_keys, free_port
from trainyard.errors import ChainError, ConfigError
from trainyard.market import Market

ETH = 10**18


class FlakyProxy:
    """Forwards JSON-RPC to ``upstream``; ``plan[method]`` is a list of what to do with the next requests of that
    method: "refuse" (close without forwarding), "lose" (forward, then close without answering), or a callable run
    before forwarding."""

    def __init__(self, upstream: str) -> None:
        self.upstream, self.plan, self.seen = upstream, {}, []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                method = json.loads(body).get("method")
                proxy.seen.append(method)
                todo = proxy.plan.get(method) or []
                action = todo.pop(0) if todo else None
                if action == "refuse":
                    self.close_connection = True
                    self.connection.close()
                    return
                if callable(action):
                    action()
                req = urllib.request.Request(proxy.upstream, body, {"Content-Type": "application/json"})
                answer = urllib.request.urlopen(req, timeout=10).read()
                if action == "lose":
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def setup(devnet, tmp_path):
    keys = dev_keys(4)
    addresses = deploy(Chain(devnet.url, {}, Account.from_key(keys[1])), tmp_path / "deployments.json")
    proxy = FlakyProxy(devnet.url)
    chain = Chain(proxy.url, addresses, Account.from_key(keys[2]))
    chain.retries = 3
    yield devnet, proxy, chain, addresses, keys
    proxy.close()


def test_reads_are_retried_through_refused_connections(setup):
    _devnet, proxy, chain, _addresses, _ = setup
    proxy.plan["eth_call"] = ["refuse", "refuse"]
    assert Market(chain).job_count() == 0
    assert proxy.seen.count("eth_call") == 3


def test_a_send_whose_answer_was_lost_is_not_sent_twice(setup):
    devnet, proxy, chain, addresses, keys = setup
    market = Market(chain)
    direct = Chain(devnet.url, addresses, Account.from_key(keys[2]))
    nonce = direct.w3.eth.get_transaction_count(chain.address)
    proxy.plan["eth_sendRawTransaction"] = ["lose"]  # Anvil gets the deposit; our answer is lost
    market.deposit(ETH)
    assert proxy.seen.count("eth_sendRawTransaction") == 2  # resent once, recognised
    assert direct.w3.eth.get_transaction_count(chain.address) == nonce + 1  # one transaction, not two
    assert Market(direct).stake_info().free == ETH


def test_a_nonce_taken_by_another_transaction_is_repaired(setup):
    devnet, proxy, chain, addresses, keys = setup
    direct = Chain(devnet.url, addresses, Account.from_key(keys[2]))
    nonce = direct.w3.eth.get_transaction_count(chain.address)
    other = direct.account.sign_transaction({"to": direct.account.address, "value": 1, "gas": 21_000, "gasPrice": 10**9,
                                             "nonce": nonce, "chainId": 31337})

    def replace_first():  # another wallet with the same key sends first, with the same nonce
        direct.w3.eth.send_raw_transaction(other.raw_transaction)

    proxy.plan["eth_sendRawTransaction"] = [replace_first]
    Market(chain).deposit(ETH)
    assert direct.w3.eth.get_transaction_count(chain.address) == nonce + 2
    assert Market(direct).stake_info().free == ETH


def test_a_node_that_stays_down_is_reported(setup):
    _devnet, proxy, chain, *_ = setup
    proxy.plan["eth_call"] = ["refuse"] * 10
    with pytest.raises(ChainError, match=r"did not answer .* after 4 tries.*is it running"):
        Market(chain).job_count()


def test_a_restarted_devnet_is_reported_with_what_to_do(tmp_path):
    keys = dev_keys(2)
    port = free_port()
    with Devnet(port=port) as net:
        addresses = deploy(Chain(net.url, {}, Account.from_key(keys[1])), tmp_path / "deployments.json")
    with (
        Devnet(port=port) as net,  # the same URL, a fresh chain
        pytest.raises(ConfigError, match=r"node was restarted.*trainyard deploy"),
    ):
        Market(Chain(net.url, addresses, Account.from_key(keys[1]))).job_count()
