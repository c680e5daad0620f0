// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOneStep} from "./interfaces/IOneStep.sol";
import {FixedOps} from "./libraries/FixedOps.sol";
import {TrainyardMerkle} from "./libraries/TrainyardMerkle.sol";

/// @title OneStep
/// @notice See {IOneStep}. Slots, ops and encodings are those of docs/disputes.md and trainyard/runtime/commit.py.
contract OneStep is IOneStep {
    /// @notice Models deeper than this are not disputable (bounds every loop over slots and every reveal).
    uint256 public constant MAX_LAYERS = 16;
    /// @notice The widest layer (input features and classes included) a dispute can settle.
    uint256 public constant MAX_WIDTH = 64;
    /// @notice The largest batch a dispute can settle.
    uint256 public constant MAX_BATCH = 32;
    // Why these numbers: every dispute transaction must stay under geth's 128 KiB (131,072 bytes) of calldata
    // with margin (docs/contracts.md, "Limits of disputability", has the table). With w <= 64, B <= 32, L <= 16:
    // - a machine state is 9L + 3 <= 147 slot values: 147 * 32 + 64 = 4,768 bytes per state array;
    // - the largest tensor is max(w * w, B * w) = 4,096 values: 64 chunks + 1 header leaf = 65 leaves, so a chunk
    //   proof is at most 7 hashes and a chunk as calldata at most 32 (index) + 64 + 512 (data) + 64 + 7 * 32
    //   (proof) = 896 bytes;
    // - revealOp: prev + next (9,536) + at most two output leaf-hash lists of 65 hashes (2 * 2,144) + the core
    //   (<= 1,000 with 17 widths): under 15,000 bytes;
    // - proveElement opens the most chunks for grad_input (a row of g: <= 2 chunks; a column of W, one value per
    //   row, <= w = 64 chunks; z: 1) = 67 chunks, or grad_weight (a column of g and one of a: <= 2B = 64):
    //   67 * 896 = 60,032 + prev 4,768 + the core + a data row (<= 512 bytes of features, a proof of <= 32
    //   hashes) + the chunk: about 68,000 bytes, half the limit. Doubling w (W column of 128 chunks of 960 bytes)
    //   or B (128 chunks for grad_weight) would reach 123,000 bytes or more: too close to the limit.
    uint256 private constant CHUNK = 64;

    enum Kind {
        Batch,
        Linear,
        Relu,
        Softmax,
        GradWeight,
        GradBias,
        GradInput,
        SgdWeight,
        SgdBias,
        End
    }

    enum Rule {
        Same,
        Computed,
        Empty,
        StepPlusOne
    }

    // ------------------------------------------------------------------------------------------------ external

    /// @inheritdoc IOneStep
    function checkLimits(SpecCore calldata core) external pure {
        uint256 n = core.layers.length;
        if (n < 2) revert OneStepUnsupported("layers", n, 2);
        if (n > MAX_LAYERS + 1) revert OneStepUnsupported("layers", n, MAX_LAYERS + 1);
        for (uint256 i = 0; i < n; ++i) {
            uint256 w = core.layers[i];
            if (w == 0) revert OneStepUnsupported("width", 0, 1);
            if (w > MAX_WIDTH) revert OneStepUnsupported("width", w, MAX_WIDTH);
        }
        if (core.batchSize == 0) revert OneStepUnsupported("batchSize", 0, 1);
        if (core.batchSize > MAX_BATCH) revert OneStepUnsupported("batchSize", core.batchSize, MAX_BATCH);
        if (core.nTrain == 0) revert OneStepUnsupported("nTrain", 0, 1);
        // a window of one step has no interior point: every state an approval could open would be published
        if (core.checkpointInterval < 2) revert OneStepUnsupported("checkpointInterval", core.checkpointInterval, 2);
    }

    /// @inheritdoc IOneStep
    function opCount(uint256 nLayers) public pure returns (uint256) {
        return 7 * nLayers + 1;
    }

    /// @inheritdoc IOneStep
    function machineRoot(bytes32[] calldata values) public pure returns (bytes32) {
        bytes32[] memory level = new bytes32[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            level[i] = TrainyardMerkle.leafHash(abi.encodePacked(uint64(i), values[i]));
        }
        return _rootOf(level);
    }

    /// @inheritdoc IOneStep
    function checkTransition(
        SpecCore calldata core,
        uint256 op,
        bytes32[] calldata prev,
        bytes32[] calldata next,
        bytes32[][] calldata outputHashes
    ) external pure returns (uint256[] memory sizes, bytes32[] memory commitments) {
        Op memory o = _op(core, op);
        uint256 slots = 9 * o.nl + 3;
        if (prev.length != slots) revert OneStepBadSlotCount(prev.length, slots);
        if (next.length != slots) revert OneStepBadSlotCount(next.length, slots);
        uint256[] memory outs = _outputs(o);
        for (uint256 s = 0; s < slots; ++s) {
            Rule r = _rule(o, outs, s);
            if (r == Rule.Same && next[s] != prev[s]) revert OneStepBadTransition(s);
            if (r == Rule.Empty && next[s] != bytes32(0)) revert OneStepBadTransition(s);
            if (r == Rule.StepPlusOne && uint256(next[s]) != uint256(prev[s]) + 1) revert OneStepBadTransition(s);
        }
        if (outputHashes.length != outs.length) revert OneStepBadOutput(outputHashes.length);
        sizes = new uint256[](outs.length);
        commitments = new bytes32[](outs.length);
        for (uint256 t = 0; t < outs.length; ++t) {
            commitments[t] = next[outs[t]];
            sizes[t] = _checkOutput(core, o.nl, outs[t], outputHashes[t], commitments[t], t);
        }
    }

    /// @dev The revealed leaf hashes of a computed tensor: count, header leaf and root; returns its size.
    function _checkOutput(SpecCore calldata core, uint256 nl, uint256 slot, bytes32[] calldata hashes, bytes32 root, uint256 t)
        private
        pure
        returns (uint256 size)
    {
        (uint256 rows, uint256 cols, uint8 ndim) = _shape(core, slot, nl);
        size = rows * cols;
        uint256 count = 1 + (size + CHUNK - 1) / CHUNK;
        if (hashes.length != count) revert OneStepBadOutput(t);
        if (hashes[0] != TrainyardMerkle.leafHash(abi.encodePacked(uint64(0), _header(rows, cols, ndim)))) {
            revert OneStepBadOutput(t);
        }
        if (_rootOf(hashes) != root) revert OneStepBadOutput(t);
    }

    /// @inheritdoc IOneStep
    function outputSize(SpecCore calldata core, uint256 op, uint256 outIndex) external pure returns (uint256) {
        Op memory o = _op(core, op);
        uint256[] memory outs = _outputs(o);
        if (outIndex >= outs.length) revert OneStepBadPosition(outIndex, 0);
        (uint256 rows, uint256 cols,) = _shape(core, outs[outIndex], o.nl);
        return rows * cols;
    }

    /// @inheritdoc IOneStep
    function expectedValue(
        SpecCore calldata core,
        Query calldata q,
        bytes32[] calldata prev,
        Chunks[] calldata inputs,
        DataRow calldata row
    ) external pure returns (int256) {
        Op memory o = _op(core, q.op);
        if (prev.length != 9 * o.nl + 3) revert OneStepBadSlotCount(prev.length, 9 * o.nl + 3);
        {
            uint256[] memory outs = _outputs(o);
            if (q.outIndex >= outs.length) revert OneStepBadPosition(q.outIndex, q.pos);
            (uint256 rows, uint256 cols,) = _shape(core, outs[q.outIndex], o.nl);
            if (q.pos >= rows * cols) revert OneStepBadPosition(q.outIndex, q.pos);
        }
        if (o.kind == Kind.Batch) return _batch(core, q.step, q.outIndex, q.pos, row);
        return _compute(core, o, q.outIndex, q.pos, _open(core, o, prev, inputs));
    }

    // ------------------------------------------------------------------------------------------------ ops

    struct Op {
        Kind kind;
        uint256 l;
        uint256 nl;
        bool mu;
    }

    /// @dev An input tensor's opened chunks, verified, kept as bytes and decoded only where read.
    struct Tensor {
        uint256 size;
        uint256[] index;
        bytes[] data;
    }

    function _op(SpecCore calldata core, uint256 op) private pure returns (Op memory o) {
        o.nl = _layers(core);
        (o.kind, o.l) = _decode(op, o.nl);
        o.mu = core.momentum != 0;
    }

    function _compute(SpecCore calldata core, Op memory o, uint256 outIndex, uint256 pos, Tensor[] memory t)
        private
        pure
        returns (int256)
    {
        uint256 batch = core.batchSize;
        uint256 inw = core.layers[o.l];
        uint256 out = core.layers[o.l + 1];
        if (o.kind == Kind.Linear) {
            // z[b, o] = clamp(rshift(sum_k a[b, k] * W[o, k]) + bias[o]); in = w_l, out = w_{l+1}
            // slither-disable-next-line divide-before-multiply (an integer row index, rounded down on purpose)
            (uint256 b, uint256 j) = (pos / out, pos % out);
            return FixedOps.linearOut(_gather(t[0], b * inw, 1, inw), _gather(t[1], j * inw, 1, inw), _at(t[2], j));
        }
        if (o.kind == Kind.Relu) return FixedOps.relu(_at(t[0], pos));
        if (o.kind == Kind.Softmax) {
            (uint256 b, uint256 k) = (pos / out, pos % out);
            int256[] memory p = FixedOps.softmax(_gather(t[0], pos - k, 1, out)); // pos - k: the row's first element
            return _at(t[1], b) == int256(k) ? p[k] - FixedOps.ONE : p[k];
        }
        if (o.kind == Kind.GradWeight) {
            // dW[j, i] = clamp(rshift(sum_b g[b, j] * a[b, i]))
            (uint256 j, uint256 i) = (pos / inw, pos % inw);
            return FixedOps.gradWeightOut(_gather(t[0], j, out, batch), _gather(t[1], i, inw, batch));
        }
        if (o.kind == Kind.GradBias) return FixedOps.gradBiasOut(_gather(t[0], pos, out, batch));
        if (o.kind == Kind.GradInput) {
            // g_{l-1}[b, i] = z_{l-1}[b, i] > 0 ? clamp(rshift(sum_j g_l[b, j] * W[j, i])) : 0
            // slither-disable-next-line divide-before-multiply (an integer row index, rounded down on purpose)
            (uint256 b, uint256 i) = (pos / inw, pos % inw);
            return FixedOps.gradInputOut(_gather(t[0], b * out, 1, out), _gather(t[1], i, inw, out), _at(t[2], pos));
        }
        // SgdWeight or SgdBias (End computes nothing: its output list is empty and outIndex was rejected)
        (int256 wNext, int256 vNext) = FixedOps.sgdOut(
            _at(t[0], pos), _at(t[1], pos), o.mu ? _at(t[2], pos) : int256(0), core.lr, core.momentum, int256(batch)
        );
        return outIndex == 0 ? wNext : vNext;
    }

    function _batch(SpecCore calldata core, uint256 step, uint256 outIndex, uint256 pos, DataRow calldata row)
        private
        pure
        returns (int256)
    {
        uint256 features = core.layers[0];
        uint256 b = outIndex == 0 ? pos / features : pos;
        uint256 drawn = FixedOps.batchIndex(core.seed, uint64(step), core.batchSize, uint64(b), core.nTrain);
        if (row.index != drawn || row.features.length != 8 * features) revert OneStepBadRow(row.index);
        bytes memory leaf = abi.encodePacked(uint64(row.index), row.label, row.features);
        if (!TrainyardMerkle.verify(leaf, row.index, core.nTrain, row.proof, core.dataRoot)) {
            revert OneStepBadRow(row.index);
        }
        return outIndex == 0 ? FixedOps.int64At(row.features, pos % features) : int256(uint256(row.label));
    }

    /// @dev Verify every opened chunk of every input of the op against the input's commitment in the agreed state.
    function _open(SpecCore calldata core, Op memory o, bytes32[] calldata prev, Chunks[] calldata inputs)
        private
        pure
        returns (Tensor[] memory t)
    {
        uint256[] memory ins = _inputs(o);
        if (inputs.length != ins.length) revert OneStepBadInputs(inputs.length, ins.length);
        t = new Tensor[](ins.length);
        for (uint256 k = 0; k < ins.length; ++k) {
            (uint256 rows, uint256 cols,) = _shape(core, ins[k], o.nl);
            t[k] = _verifyChunks(inputs[k], prev[ins[k]], rows * cols, k);
        }
    }

    function _verifyChunks(Chunks calldata ch, bytes32 commitment, uint256 size, uint256 k)
        private
        pure
        returns (Tensor memory t)
    {
        uint256 n = ch.index.length;
        if (ch.data.length != n || ch.proofs.length != n) revert OneStepBadChunk(k, n);
        uint256 leafCount = 1 + (size + CHUNK - 1) / CHUNK;
        for (uint256 j = 0; j < n; ++j) {
            uint256 idx = ch.index[j];
            if (j > 0 && idx <= ch.index[j - 1]) revert OneStepBadChunk(k, idx);
            bytes memory leaf = abi.encodePacked(uint64(idx + 1), ch.data[j]);
            if (!TrainyardMerkle.verify(leaf, idx + 1, leafCount, ch.proofs[j], commitment)) {
                revert OneStepBadChunk(k, idx);
            }
        }
        t = Tensor(size, ch.index, ch.data);
    }

    /// @dev `count` values of `t` at first, first + stride, ...
    function _gather(Tensor memory t, uint256 first, uint256 stride, uint256 count)
        private
        pure
        returns (int256[] memory out)
    {
        out = new int256[](count);
        uint256 ptr = 0;
        uint256 n = t.index.length;
        for (uint256 i = 0; i < count; ++i) {
            uint256 p = first + i * stride;
            uint256 c = p / CHUNK;
            while (ptr < n && t.index[ptr] < c) ++ptr;
            if (p >= t.size || ptr == n || t.index[ptr] != c) revert OneStepBadChunk(n, c);
            out[i] = FixedOps.int64At(t.data[ptr], p % CHUNK);
        }
    }

    function _at(Tensor memory t, uint256 p) private pure returns (int256) {
        return _gather(t, p, 1, 1)[0];
    }

    // ------------------------------------------------------------------------------------------------ layout

    function _layers(SpecCore calldata core) private pure returns (uint256 nl) {
        if (core.layers.length < 2 || core.layers.length > MAX_LAYERS + 1 || core.batchSize == 0 || core.nTrain == 0) {
            revert OneStepBadCore();
        }
        for (uint256 i = 0; i < core.layers.length; ++i) {
            if (core.layers[i] == 0) revert OneStepBadCore();
        }
        nl = core.layers.length - 1;
    }

    /// @dev Op i of a step (1-based): batch; linear/relu per layer; softmax; grad_weight/grad_bias/grad_input from the
    /// last layer down; sgd weight/bias per layer; end.
    function _decode(uint256 op, uint256 nl) private pure returns (Kind, uint256) {
        uint256 n = opCount(nl);
        if (op == 0 || op > n) revert OneStepBadOp(op, n);
        if (op == 1) return (Kind.Batch, 0);
        if (op <= 2 * nl) {
            uint256 j = op - 2;
            return (j % 2 == 0 ? Kind.Linear : Kind.Relu, j / 2);
        }
        if (op == 2 * nl + 1) return (Kind.Softmax, nl - 1);
        if (op <= 5 * nl) {
            uint256 j = op - (2 * nl + 2);
            uint256 r = j % 3;
            return (r == 0 ? Kind.GradWeight : r == 1 ? Kind.GradBias : Kind.GradInput, nl - 1 - j / 3);
        }
        if (op <= 7 * nl) {
            uint256 j = op - (5 * nl + 1);
            return (j % 2 == 0 ? Kind.SgdWeight : Kind.SgdBias, j / 2);
        }
        return (Kind.End, 0);
    }

    // slot numbers (docs/disputes.md)
    function _w(uint256 l) private pure returns (uint256) {
        return 1 + 4 * l;
    }

    function _z(uint256 l, uint256 nl) private pure returns (uint256) {
        return 4 * nl + 3 + 5 * l;
    }

    /// @dev The slot of the input activation of layer l: the batch for l = 0, else relu's output of layer l - 1.
    function _act(uint256 l, uint256 nl) private pure returns (uint256) {
        return l == 0 ? 4 * nl + 1 : _z(l - 1, nl) + 1;
    }

    function _outputs(Op memory op) private pure returns (uint256[] memory o) {
        (Kind kind, uint256 l, uint256 nl, bool mu) = (op.kind, op.l, op.nl, op.mu);
        if (kind == Kind.Batch) return _pair(4 * nl + 1, 4 * nl + 2);
        if (kind == Kind.Linear) return _one(_z(l, nl));
        if (kind == Kind.Relu) return _one(_z(l, nl) + 1);
        if (kind == Kind.Softmax) return _one(_z(nl - 1, nl) + 2);
        if (kind == Kind.GradWeight) return _one(_z(l, nl) + 3);
        if (kind == Kind.GradBias) return _one(_z(l, nl) + 4);
        if (kind == Kind.GradInput) return _one(_z(l - 1, nl) + 2);
        if (kind == Kind.SgdWeight) return mu ? _pair(_w(l), _w(l) + 2) : _one(_w(l));
        if (kind == Kind.SgdBias) return mu ? _pair(_w(l) + 1, _w(l) + 3) : _one(_w(l) + 1);
        return o; // End
    }

    function _inputs(Op memory op) private pure returns (uint256[] memory i) {
        (Kind kind, uint256 l, uint256 nl, bool mu) = (op.kind, op.l, op.nl, op.mu);
        if (kind == Kind.Linear) return _three(_act(l, nl), _w(l), _w(l) + 1);
        if (kind == Kind.Relu) return _one(_z(l, nl));
        if (kind == Kind.Softmax) return _pair(_z(nl - 1, nl), 4 * nl + 2);
        if (kind == Kind.GradWeight) return _pair(_z(l, nl) + 2, _act(l, nl));
        if (kind == Kind.GradBias) return _one(_z(l, nl) + 2);
        if (kind == Kind.GradInput) return _three(_z(l, nl) + 2, _w(l), _z(l - 1, nl));
        if (kind == Kind.SgdWeight) {
            return mu ? _three(_w(l), _z(l, nl) + 3, _w(l) + 2) : _pair(_w(l), _z(l, nl) + 3);
        }
        if (kind == Kind.SgdBias) {
            return mu ? _three(_w(l) + 1, _z(l, nl) + 4, _w(l) + 3) : _pair(_w(l) + 1, _z(l, nl) + 4);
        }
        return i; // Batch reads a data row; End reads nothing
    }

    function _rule(Op memory o, uint256[] memory outs, uint256 s) private pure returns (Rule) {
        if (o.kind == Kind.End) {
            if (s == 0) return Rule.StepPlusOne;
            return s >= 4 * o.nl + 1 ? Rule.Empty : Rule.Same;
        }
        if (o.kind == Kind.SgdWeight && s == _z(o.l, o.nl) + 3) return Rule.Empty;
        if (o.kind == Kind.SgdBias && s == _z(o.l, o.nl) + 4) return Rule.Empty;
        for (uint256 t = 0; t < outs.length; ++t) {
            if (outs[t] == s) return Rule.Computed;
        }
        return Rule.Same;
    }

    /// @dev (rows, cols, ndim) of a slot's tensor; a vector is (n, 1, 1).
    function _shape(SpecCore calldata core, uint256 s, uint256 nl)
        private
        pure
        returns (uint256 rows, uint256 cols, uint8 ndim)
    {
        uint32[] calldata w = core.layers;
        uint256 batch = core.batchSize;
        if (s >= 1 && s <= 4 * nl) {
            uint256 l = (s - 1) / 4;
            uint256 r = (s - 1) % 4;
            return r % 2 == 0 ? (uint256(w[l + 1]), uint256(w[l]), 2) : (uint256(w[l + 1]), 1, 1);
        }
        if (s == 4 * nl + 1) return (batch, w[0], 2);
        if (s == 4 * nl + 2) return (batch, 1, 1);
        uint256 j = s - (4 * nl + 3);
        uint256 l2 = j / 5;
        uint256 r2 = j % 5;
        if (r2 <= 2) return (batch, w[l2 + 1], 2);
        if (r2 == 3) return (w[l2 + 1], w[l2], 2);
        return (w[l2 + 1], 1, 1);
    }

    /// @dev b"TYT1" || uint8 ndim || uint32_le dims.
    function _header(uint256 rows, uint256 cols, uint8 ndim) private pure returns (bytes memory) {
        if (ndim == 1) return abi.encodePacked(bytes4("TYT1"), ndim, _le32(rows));
        return abi.encodePacked(bytes4("TYT1"), ndim, _le32(rows), _le32(cols));
    }

    // ------------------------------------------------------------------------------------------------ helpers

    function _le32(uint256 x) private pure returns (bytes4) {
        return bytes4(uint32(((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >> 8) & 0xff00) | ((x >> 24) & 0xff)));
    }

    /// @dev RFC 9162 root of leaf hashes, a level at a time (an odd last node is carried up).
    function _rootOf(bytes32[] memory level) private pure returns (bytes32) {
        uint256 n = level.length;
        if (n == 0) return sha256("");
        while (n > 1) {
            uint256 m = 0;
            for (uint256 i = 0; i + 1 < n; i += 2) {
                level[m++] = TrainyardMerkle.nodeHash(level[i], level[i + 1]);
            }
            if (n % 2 == 1) level[m++] = level[n - 1];
            n = m;
        }
        return level[0];
    }

    function _one(uint256 a) private pure returns (uint256[] memory r) {
        r = new uint256[](1);
        r[0] = a;
    }

    function _pair(uint256 a, uint256 b) private pure returns (uint256[] memory r) {
        r = new uint256[](2);
        (r[0], r[1]) = (a, b);
    }

    function _three(uint256 a, uint256 b, uint256 c) private pure returns (uint256[] memory r) {
        r = new uint256[](3);
        (r[0], r[1], r[2]) = (a, b, c);
    }
}
