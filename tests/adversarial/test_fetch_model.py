"""`trainyard fetch`: the model is checked against its CID and against the trace's last root on chain; when the
solver keeps its checkpoints to itself the submitter gets an error saying what to do, and `--recompute` trains the
model again from the last checkpoint it can read (or the initial state) and checks it against the trace."""

import pytest
import torch
from conftest import contest
from test_strategies import Withholding

from trainyard import runtime as rt
from trainyard.errors import TrainyardError
from trainyard.jobs import JobState
from trainyard.market import Market
from trainyard.status import fetch_model
from trainyard.store import LocalStore


def test_a_withheld_model_is_recomputed_and_checked_against_the_trace(devnet, tmp_path, spec_path):
    private = LocalStore(tmp_path / "private")
    r = contest(devnet, tmp_path, spec_path, None, challengers=(), store=lambda public: Withholding(public, private))
    assert r.state is JobState.FINALIZED
    public = LocalStore(tmp_path / "home" / "store")
    market = Market(r.chains["submitter"])
    with pytest.raises(TrainyardError, match="--recompute"):
        fetch_model(market, public, r.job_id, tmp_path / "out")
    lines = fetch_model(market, public, r.job_id, tmp_path / "out", recompute=True)
    assert "recomputed from the initial state" in lines[0]
    state = rt.load_checkpoint((tmp_path / "out" / "model.ckpt").read_bytes())
    last = max(market.chain.events("JobMarket", "TraceCommitted", jobId=r.job_id), key=lambda e: e["args"]["window"])
    assert state.root() == bytes(last["args"]["stateRoot"])
    assert set(torch.load(tmp_path / "out" / "model.pt")) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert private.get(last["args"]["checkpointCID"]) == rt.save_checkpoint(state)  # the very file it withheld


def test_a_published_model_is_fetched_and_checked(devnet, tmp_path, spec_path):
    r = contest(devnet, tmp_path, spec_path, None, challengers=())
    lines = fetch_model(
        Market(r.chains["submitter"]), LocalStore(tmp_path / "home" / "store"), r.job_id, tmp_path / "o"
    )
    assert "verified against its CID and the trace's last root" in lines[0]
