"""OneStep against its Python twin (trainyard.dispute.witness) on Anvil: the same machine roots, transition checks,
output sizes and recomputed values, bit for bit, for deep and wide models with and without momentum."""
import sys

import numpy as np
import pytest

from trainyard.dispute import witness as wt
from trainyard.runtime import commit
from trainyard.runtime.optrace import machine_tensors, op_schedule
from trainyard.spec_core import SpecCore, data_root

sys.path.insert(0, "tests/dispute")
from test_witness import _positions, _size, _value, make_case


@pytest.fixture(scope="module")
def onestep(OneStep, accounts):
    return OneStep.deploy({"from": accounts[0]})


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("layers,batch", [((70, 67, 5), 67), ((65, 9, 66, 4), 3)])
def test_python_and_solidity_agree(onestep, layers, batch, momentum):
    cfg, data, state = make_case(layers, batch, momentum)
    n, mu, rng = len(layers) - 1, bool(momentum), np.random.default_rng(2)
    core = SpecCore(b"\x01" * 32, state.root(), data_root(data), len(data.train_index), batch, 1, cfg.seed,
                    cfg.lr_fixed, cfg.momentum_fixed, tuple(layers))
    ct = core.abi_tuple()
    states = [machine_tensors(cfg, data, state, i) for i in range(7 * n + 2)]
    values = [commit.machine_values(s, live, n) for s, live in states]
    assert onestep.opCount(n) == 7 * n + 1
    for v in values[:3]:
        assert bytes(onestep.machineRoot(v)) == commit.machine_root(v)
    for op in op_schedule(n):
        prev, nxt = values[op.index - 1], values[op.index]
        _, _, hashes = wt.reveal_op_args(prev, nxt, states[op.index][1], op, n, mu)
        sizes, comms = onestep.checkTransition(ct, op.index, prev, nxt, hashes)
        outs = wt.output_names(op, n, mu)
        assert list(sizes) == [_size(cfg, nm) for nm in outs]
        assert [bytes(c) for c in comms] == [nxt[s] for s in wt.output_slots(op, n, mu)]
        for out, name in enumerate(wt.output_names(op, n, mu)):
            assert onestep.outputSize(ct, op.index, out) == _size(cfg, name)
            for pos in _positions(_size(cfg, name), rng)[:3]:
                step, live = states[op.index - 1]
                args = wt.prove_element_args(cfg, data, step, live, op, out, pos // 64, pos % 64)
                got = onestep.expectedValue(ct, args["query"], args["prev_values"], args["inputs"], args["row"])
                assert got == _value(states[op.index][1], name, pos), (op.name, out, pos)
