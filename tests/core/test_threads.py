"""The torch thread count of agents that train (trainyard.threads, `--threads`), and the speed they print."""

import io

import pytest
import torch

from trainyard.cli import build_parser, main
from trainyard.errors import TrainyardError
from trainyard.progress import Progress
from trainyard.threads import choose_threads, steps_per_second, use_threads


@pytest.mark.parametrize(
    "requested,env,expected",
    [
        (None, {}, 1),  # torch's default (a thread per core) is what made a busy 2-core machine 20-50x slower
        (None, {"OMP_NUM_THREADS": "3"}, 3),  # the user's choice for every OpenMP program
        (None, {"OMP_NUM_THREADS": " 2 "}, 2),
        (None, {"OMP_NUM_THREADS": "0"}, 1),
        (None, {"OMP_NUM_THREADS": "-4"}, 1),
        (None, {"OMP_NUM_THREADS": "many"}, 1),
        (None, {"OMP_NUM_THREADS": ""}, 1),
        (4, {"OMP_NUM_THREADS": "2"}, 4),  # --threads wins
        (1, {}, 1),
    ],
)
def test_choose_threads_takes_the_flag_then_omp_num_threads_then_one(requested, env, expected):
    assert choose_threads(requested, env) == expected


@pytest.mark.parametrize("bad", [0, -1])
def test_choose_threads_refuses_a_count_below_one(bad):
    with pytest.raises(TrainyardError, match=f"--threads: at least 1, got {bad}"):
        choose_threads(bad, {})


def test_use_threads_sets_torchs_thread_count():
    before = torch.get_num_threads()
    try:
        assert use_threads(2) == 2 == torch.get_num_threads()
        assert use_threads(1) == 1 == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("argv", [["solver", "run"], ["verifier", "run"], ["whistleblower", "run"]])
def test_every_agent_that_trains_takes_threads(argv):
    assert build_parser().parse_args([*argv, "--threads", "3"]).threads == 3
    assert build_parser().parse_args(argv).threads is None


@pytest.mark.parametrize("argv", [["solver", "run"], ["verifier", "run"], ["whistleblower", "run"]])
def test_an_agent_with_zero_threads_exits_2_in_one_line(argv, capsys, monkeypatch):
    monkeypatch.setenv("TRAINYARD_RPC_URL", "http://127.0.0.1:9")  # never reached: the flag is checked first
    assert main([*argv, "--threads", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --threads: at least 1, got 0\n"


def test_speed_is_printed_in_steps_per_second():
    assert steps_per_second(650, 2.0) == "325 steps/s"
    assert steps_per_second(12_000, 1.0) == "12,000 steps/s"
    out = io.StringIO()
    Progress("job 1 window 1/4", 250, stream=out, unit="steps").update(250)
    assert " 250/250 " in out.getvalue() and " steps/s eta " in out.getvalue()


def test_fetch_recompute_trains_on_the_agents_thread_count(capsys, monkeypatch):
    """`fetch --recompute` may retrain: it sets the same thread count before it reaches the node."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("TRAINYARD_RPC_URL", "http://127.0.0.1:9")  # nobody listens: exit 2 after the threads are set
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        assert main(["fetch", "1", "--recompute"]) == 2
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert "cannot reach an Ethereum node" in capsys.readouterr().err
