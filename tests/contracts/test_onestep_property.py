"""OneStep.expectedValue against the runtime on Anvil: for every op kind, 200 random cases (model widths, batch
size, momentum, state, data, op, output and position) where the contract recomputes one output value from the
opened inputs, and it must equal, bit for bit, the value the torch step produced."""

import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainyard.dispute import witness as wt
from trainyard.runtime.optrace import machine_tensors, op_schedule
from trainyard.spec_core import SpecCore, data_root

sys.path.insert(0, "tests/dispute")
from test_witness import make_case

KINDS = ("batch", "linear", "relu", "softmax_xent_grad", "grad_weight", "grad_bias", "grad_input", "sgd_weight",
         "sgd_bias")


@pytest.fixture(scope="module")
def onestep(OneStep, accounts):
    return OneStep.deploy({"from": accounts[0]})


case = st.fixed_dictionaries({
    "layers": st.lists(st.integers(1, 70), min_size=3, max_size=4).map(tuple),
    "batch": st.integers(1, 6),
    "momentum": st.sampled_from([0.0, 0.9]),
    "rng": st.integers(0, 2**16),
    "step": st.integers(0, 1000),
    "pick": st.integers(0, 2**16),
})


@pytest.mark.parametrize("kind", KINDS)
def test_contract_recomputes_the_runtime_value(onestep, kind):
    @settings(max_examples=200, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(c=case)
    def check(c):
        layers = (c["layers"][0], *c["layers"][1:-1], max(2, c["layers"][-1]))
        cfg, data, state = make_case(layers, c["batch"], c["momentum"], step=c["step"], rng_seed=c["rng"])
        n = len(layers) - 1
        ops = [op for op in op_schedule(n) if op.kind == kind]
        op = ops[c["pick"] % len(ops)]
        outs = wt.output_names(op, n, bool(cfg.momentum_fixed))
        out = (c["pick"] // 7) % len(outs)
        size = int(np.prod(wt.slot_shape(outs[out], cfg.layers, cfg.batch_size)))
        pos = (c["pick"] // 13) % size
        prev_step, prev_live = machine_tensors(cfg, data, state, op.index - 1)
        _, live = machine_tensors(cfg, data, state, op.index)
        args = wt.prove_element_args(cfg, data, prev_step, prev_live, op, out, pos // 64, pos % 64)
        core = SpecCore(b"\x01" * 32, b"\x02" * 32, data_root(data), len(data.train_index), cfg.batch_size, 1,
                        cfg.seed, cfg.lr_fixed, cfg.momentum_fixed, layers)
        got = onestep.expectedValue(core.abi_tuple(), args["query"], args["prev_values"], args["inputs"], args["row"])
        assert got == int(live[outs[out]].flatten()[pos])

    check()
