"""The demo's second round: a solver that cheats (it nudges one weight in the middle of its training) wins the
job, a verifier re-executes its windows, disputes the wrong one and proves one op wrong on chain; the cheater's
stake is slashed, the submitter gets its price back, the verifier is rewarded."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from trainyard.challenger.logic import ChallengerPolicy
from trainyard.dispute.client import DisputeClient
from trainyard.dispute.oracle import ExactOracle, Live, Tamper
from trainyard.jobs import JobState
from trainyard.market import Market
from trainyard.rounds import ChallengerSpec, RoundResult, SolverSpec, run_contested_round
from trainyard.runtime.data import Dataset
from trainyard.runtime.model import TrainConfig
from trainyard.runtime.optrace import op_schedule

ETH = 10**18
CHEAT_STEP = 600  # inside the third window of the digits job (250 steps per window)


def _nudge(live: Live, start: Live) -> None:
    w = live["l0.weight"].clone()
    w[3, 17] += 1  # one weight, by 2^-16: invisible in the accuracy, fatal in the game
    live["l0.weight"] = w


def cheating_oracle(cfg: TrainConfig, data: Dataset) -> ExactOracle:
    op = next(o.index for o in op_schedule(len(cfg.layers) - 1) if o.kind == "sgd_weight" and o.layer == 0)
    return ExactOracle(cfg, data, (Tamper(CHEAT_STEP, op, _nudge),))


def run_cheating_round(rpc_url: str, home: Path, spec_path: Path) -> RoundResult:
    return run_contested_round(
        rpc_url, home, spec_path,
        [SolverSpec("cheater", int(0.2 * ETH), cheating_oracle)],
        [ChallengerSpec("verifier", ChallengerPolicy(sample_rate=1.0, secret=b"demo"))],
    )


def report(r: RoundResult) -> str:
    c = r.chains["deployer"]
    lines = [f"\njob {r.job_id} (cheating solver): {r.state.label}"]
    for g in r.games:
        opened = c.events("DisputeGame", "GameOpened", 0, gameId=g)[0]["args"]
        lines.append(
            f"game {g}: the verifier disputed window {opened['window']} (steps {opened['lo']}..{opened['hi']})"
        )
        moves = Counter(
            x.label
            for x in r.gas
            if x.label
            in ("challenge", "postRoots", "pick", "revealOp", "nameChunk", "revealChunk", "proveElement", "timeout")
        )
        gas = sum(x.gas_used for x in r.gas if x.label in moves)
        raw = DisputeClient(c).raw(g)
        n_ops = int(raw["opCount"])
        n_layers = (n_ops - 1) // 7
        for ev in c.events("DisputeGame", "SegmentPicked", 0, gameId=g):
            a = ev["args"]
            if a["phase"] == 1:
                lines.append(f"  the verifier disputes steps {a['lo']}..{a['hi']}")
            elif (a["lo"], a["hi"]) == (0, n_ops):
                lines.append(f"  the wrong step is {raw['step']}: now its {n_ops} ops")
            else:
                lines.append(f"  the verifier disputes ops {a['lo']}..{a['hi']}")
        for ev in c.events("DisputeGame", "OpRevealed", 0, gameId=g):
            a = ev["args"]
            name = op_schedule(n_layers)[a["op"] - 1].name
            lines.append(f"  the solver opened op {a['op']} ({name}) of step {a['step']}")
        for ev in c.events("DisputeGame", "ValueChecked", 0, gameId=g):
            a = ev["args"]
            lines.append(
                f"  the contract recomputed value {a['position']}: solver claimed {a['claimed']}, "
                f"the op gives {a['recomputed']}"
            )
        for ev in c.events("DisputeGame", "GameEnded", 0, gameId=g):
            a = ev["args"]
            lines.append(
                f"  {'the solver lost' if a['solverLost'] else 'the challenger lost'}; rewarded {a['rewarded']}"
            )
        for ev in c.events("DisputeGame", "PotRecorded", 0, gameId=g):
            a = ev["args"]
            lines.append(
                f"  the slash reward, {a['reward'] / ETH:g} ETH, is shared by the {a['games']} game(s) live then: "
                f"{a['share'] / ETH:g} ETH each, with their bonds back"
            )
        lines.append(
            f"  {sum(moves.values())} moves, {gas:,} gas in all: " + ", ".join(f"{k} x{v}" for k, v in moves.items())
        )
    for ev in c.events("Staking", "StakeSlashed", 0):
        a = ev["args"]
        lines.append(
            f"slashed {a['account']}: {a['amount'] / ETH:g} ETH, {a['reward'] / ETH:g} ETH to "
            f"{a['beneficiary']}, {(a['amount'] - a['reward']) / ETH:g} ETH burned"
        )
    lines.append("\nwhat each party gained or lost (ETH, wallet and stake together, gas fees left out):")
    for role in ("submitter", "cheater", "verifier"):
        m = Market(r.chains[role])
        info = m.stake_info(r.addresses[role])
        lines.append(
            f"  {role:<10} {(r.delta(role) + info.free + info.locked + info.unbonding + info.credits) / ETH:+.4f}"
        )
    ok = r.state is JobState.SLASHED
    lines.append("the cheater was caught and slashed" if ok else "THE CHEATER WAS NOT CAUGHT")
    return "\n".join(lines)
