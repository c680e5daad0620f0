"""`trainyard explorer`: a local web page (FastAPI) that shows the market live, from chain events and the store.

JSON API: ``/api/jobs`` (every job with its state, price, winner, trace), ``/api/jobs/<id>`` (its bids, trace
leaves, the training loss at each published checkpoint, its games), ``/api/games`` (every dispute game with its moves
and the gas of each), ``/api/stakes`` (stake, credits, earnings and slashes per address). The page at ``/`` polls
them every two seconds and draws the job table, a dispute timeline, stakes and two plots (training loss per
checkpoint, gas per move).
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import torch
from eth_typing import Hash32
from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse

from trainyard import runtime as rt
from trainyard.chain import Chain
from trainyard.errors import TrainyardError
from trainyard.jobs import JobView
from trainyard.market import Market
from trainyard.store import ContentStore

ETH = 10**18
MOVES = ("GameOpened", "RootsPosted", "SegmentPicked", "OpRevealed", "ChunkNamed", "ChunkRevealed", "ValueChecked",
         "GameTimedOut", "GameEnded", "GameClosed")
PAGE = Path(__file__).with_name("explorer.html")


class Explorer:
    """Reads for the API; every chain read goes through :class:`~trainyard.chain.Chain` (retries, clear errors)."""

    def __init__(self, chain: Chain, store: ContentStore) -> None:
        self.chain, self.store, self.market = chain, store, Market(chain)
        self._lock = threading.Lock()
        self._gas: dict[bytes, int] = {}

    def jobs(self) -> list[dict[str, Any]]:
        return [self._job(self.market.job(j)) for j in range(1, self.market.job_count() + 1)]

    def _job(self, v: JobView) -> dict[str, Any]:
        return {"id": v.job_id, "state": v.state.label, "submitter": v.submitter, "winner": v.winner,
                "max_price_eth": v.max_price / ETH, "price_eth": v.price / ETH, "windows": v.num_windows,
                "committed": v.leaf_count, "trace_root": "0x" + v.trace_root.hex(), "open_disputes": v.open_disputes}

    def job(self, job_id: int) -> dict[str, Any]:
        if not 1 <= job_id <= self.market.job_count():
            raise HTTPException(404, f"no job {job_id}")
        v = self.market.job(job_id)
        bids = [{"bidder": e["args"]["bidder"], "index": int(e["args"]["index"])}
                for e in self.chain.events("JobMarket", "BidCommitted", 0, jobId=job_id)]
        reveals = {(e["args"]["bidder"]): e["args"]["price"] / ETH
                   for e in self.chain.events("JobMarket", "BidRevealed", 0, jobId=job_id)}
        for b in bids:
            b["price_eth"] = reveals.get(b["bidder"])
        leaves = [{"window": int(e["args"]["window"]), "state_root": "0x" + bytes(e["args"]["stateRoot"]).hex(),
                   "cid": e["args"]["checkpointCID"]}
                  for e in self.chain.events("JobMarket", "TraceCommitted", 0, jobId=job_id)]
        loss = []
        for leaf in leaves:
            value = self._loss(v.spec_cid, leaf["cid"])
            if value is not None:
                loss.append({"window": leaf["window"], "step": value[0], "loss": value[1]})
        games = [g for g in self.games() if g["job"] == job_id]
        return {**self._job(v), "bids": bids, "trace": leaves, "loss": loss, "games": games}

    def _loss(self, spec_cid: str, cid: str) -> tuple[int, float] | None:
        """Mean cross-entropy of the checkpoint on (up to 512) training rows; None when it is not in the store."""
        try:
            return _checkpoint_loss(self.store, spec_cid, cid)
        except (TrainyardError, ValueError, KeyError):
            return None

    def games(self) -> list[dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for name in MOVES:
            for e in self.chain.events("DisputeGame", name, 0):
                g = int(e["args"]["gameId"])
                game = out.setdefault(g, {"id": g, "job": None, "moves": [], "outcome": "live"})
                if name == "GameOpened":
                    game.update(job=int(e["args"]["jobId"]), challenger=e["args"]["challenger"],
                                window=int(e["args"]["window"]), degree=int(e["args"]["degree"]))
                if name == "GameEnded":
                    game["outcome"] = "solver lost" if e["args"]["solverLost"] else "challenger lost"
                if name == "GameClosed":
                    game["outcome"] = "closed"
                game["moves"].append({"event": name, "block": int(e["blockNumber"]), "log": int(e["logIndex"]),
                                      "tx": bytes(e["transactionHash"]).hex(), "detail": _detail(name, e["args"])})
        for game in out.values():
            game["moves"].sort(key=lambda m: (m["block"], m["log"]))
            seen: set[str] = set()
            for m in game["moves"]:  # a transaction's gas is shown on its first event (a proof also ends the game)
                m["gas"] = 0 if m["tx"] in seen else self._tx_gas(bytes.fromhex(m["tx"]))
                seen.add(m["tx"])
        return [out[g] for g in sorted(out)]

    def _tx_gas(self, tx: bytes) -> int:
        with self._lock:
            if tx not in self._gas:
                receipt = self.chain.retry(
                    "get_transaction_receipt", lambda: self.chain.w3.eth.get_transaction_receipt(Hash32(tx))
                )
                self._gas[tx] = int(receipt["gasUsed"])
            return self._gas[tx]

    def _reward_shares(self) -> list[tuple[str, int]]:
        """(challenger, wei) of every share of a slash reward paid by the game contract: to the game the solver lost
        (its `GameEnded`, with the share in `PotRecorded`) and to each game closed afterwards (`GameClosed`)."""
        shares = {
            int(e["args"]["gameId"]): int(e["args"]["share"])
            for e in self.chain.events("DisputeGame", "PotRecorded", 0)
        }
        out = [
            (str(e["args"]["rewarded"]), shares[int(e["args"]["gameId"])])
            for e in self.chain.events("DisputeGame", "GameEnded", 0)
            if int(e["args"]["gameId"]) in shares
        ]
        out += [
            (str(e["args"]["challenger"]), int(e["args"]["share"]))
            for e in self.chain.events("DisputeGame", "GameClosed", 0)
        ]
        return out

    def stakes(self) -> list[dict[str, Any]]:
        who: set[str] = set()
        for ev, key in (("BidCommitted", "bidder"), ("JobPosted", "submitter")):
            who |= {str(e["args"][key]) for e in self.chain.events("JobMarket", ev, 0)}
        who |= {str(e["args"]["account"]) for e in self.chain.events("Staking", "Deposited", 0)}
        who |= {str(e["args"]["challenger"]) for e in self.chain.events("DisputeGame", "GameOpened", 0)}
        earned: dict[str, int] = {}
        for e in self.chain.events("JobMarket", "JobFinalized", 0):
            earned[e["args"]["solver"]] = earned.get(e["args"]["solver"], 0) + int(e["args"]["payment"])
        slashed: dict[str, int] = {}
        game = self.chain.addresses.get("DisputeGame", "")
        for e in self.chain.events("Staking", "StakeSlashed", 0):  # slash rewards earn their beneficiary
            if e["args"]["beneficiary"] != game:  # a game's reward is shared among its games' challengers (below)
                earned[e["args"]["beneficiary"]] = earned.get(e["args"]["beneficiary"], 0) + int(e["args"]["reward"])
            slashed[e["args"]["account"]] = slashed.get(e["args"]["account"], 0) + int(e["args"]["amount"])
        for account, share in self._reward_shares():
            earned[account] = earned.get(account, 0) + share
        rows = []
        for a in sorted(who):
            info = self.market.stake_info(a)
            rows.append(
                {
                    "address": a,
                    "free_eth": info.free / ETH,
                    "locked_eth": info.locked / ETH,
                    "credits_eth": info.credits / ETH,
                    "earned_eth": earned.get(a, 0) / ETH,
                    "slashed_eth": slashed.get(a, 0) / ETH,
                }
            )
        return rows


_LOSS_CACHE: dict[tuple[str, str], tuple[int, float]] = {}


def _checkpoint_loss(store: ContentStore, spec_cid: str, cid: str) -> tuple[int, float]:
    key = (spec_cid, cid)
    if key not in _LOSS_CACHE:
        from trainyard.spec import parse_document

        doc = parse_document(store.get(spec_cid))
        data = rt.Dataset.from_npz_bytes(store.get(doc["dataset"]["cid"]))
        state = rt.load_checkpoint(store.get(cid))
        model = rt.float_module(state.layers)
        model.load_state_dict(rt.export_float_state_dict(state))
        rows = data.train_index[:512]
        with torch.no_grad():
            loss = torch.nn.functional.cross_entropy(model(data.x[rows].double().div(65536).float()), data.y[rows])
        value = float(loss.item())
        _LOSS_CACHE[key] = (state.step, value if math.isfinite(value) else float("nan"))
    return _LOSS_CACHE[key]


def _detail(name: str, a: Any) -> str:
    if name == "GameOpened":
        return f"window {a['window']}: steps {a['lo']}..{a['hi']}, degree {a['degree']}"
    if name == "RootsPosted":
        return f"{len(a['roots'])} roots in {a['lo']}..{a['hi']}"
    if name == "SegmentPicked":
        return f"segment {a['segment']}: {'steps' if a['phase'] == 1 else 'ops'} {a['lo']}..{a['hi']}"
    if name == "OpRevealed":
        return f"op {a['op']} of step {a['step']}"
    if name == "ChunkNamed":
        return f"output {a['outIndex']}, chunk {a['chunk']}"
    if name == "ValueChecked":
        return f"value {a['position']}: claimed {a['claimed']}, recomputed {a['recomputed']}"
    if name == "GameEnded":
        return f"{'solver' if a['solverLost'] else 'challenger'} lost; {a['burned'] / ETH:g} ETH burned"
    if name == "GameClosed":
        return f"closed (its job was decided): bond back and {a['share'] / ETH:g} ETH of the slash reward"
    return ""


def explorer_app(chain: Chain, store: ContentStore) -> FastAPI:
    ex = Explorer(chain, store)
    app = FastAPI(title="Trainyard explorer", docs_url=None, redoc_url=None)
    page = PAGE.read_text()

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page

    @app.get("/api/jobs")
    def jobs() -> list[dict[str, Any]]:
        return ex.jobs()

    @app.get("/api/jobs/{job_id}")
    def job(job_id: int) -> dict[str, Any]:
        return ex.job(job_id)

    @app.get("/api/games")
    def games() -> list[dict[str, Any]]:
        return ex.games()

    @app.get("/api/stakes")
    def stakes() -> list[dict[str, Any]]:
        return ex.stakes()

    return app
