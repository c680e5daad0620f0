// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title FixedOps
/// @notice Solidity twins of the exact runtime's fixed-point rules (trainyard/runtime/fixed.py, docs/runtime.md):
/// the same integers, bit for bit, so the dispute game can recompute one output of a disputed op on chain.
/// Values are int256 holding int64 fixed-point numbers (16 fractional bits).
library FixedOps {
    int256 internal constant FRAC = 16;
    int256 internal constant ONE = 65536;
    int256 internal constant CLAMP = 1 << 20;
    int256 internal constant LOG2E = 94548;

    /// @notice A value read beyond the end of its bytes.
    error FixedOpsOutOfRange(uint256 index, uint256 length);

    /// @notice Value `e` of packed little-endian int64s (a tensor chunk or a data row as the commitments hold
    /// them): one word load and a byte swap.
    function int64At(bytes memory d, uint256 e) internal pure returns (int256) {
        uint256 off = e * 8;
        if (off + 8 > d.length) revert FixedOpsOutOfRange(e, d.length);
        uint256 word;
        assembly ("memory-safe") {
            word := mload(add(add(d, 32), off))
        }
        uint64 v = uint64(word >> 192);
        v = ((v & 0xFF00FF00FF00FF00) >> 8) | ((v & 0x00FF00FF00FF00FF) << 8);
        v = ((v & 0xFFFF0000FFFF0000) >> 16) | ((v & 0x0000FFFF0000FFFF) << 16);
        v = (v >> 32) | (v << 32);
        return int256(int64(v));
    }

    /// @notice floor((x + 2^(k-1)) / 2^k): halves round up. `>>` on int256 is an arithmetic shift (floor).
    function rshiftRound(int256 x, uint256 k) internal pure returns (int256) {
        return (x + int256(1 << (k - 1))) >> k;
    }

    /// @notice floor((x + floor(d/2)) / d) for d > 0 (Solidity's `/` truncates towards zero: corrected to floor).
    function divRound(int256 x, int256 d) internal pure returns (int256) {
        int256 n = x + d / 2;
        int256 q = n / d;
        if (n % d != 0 && n < 0) q -= 1;
        return q;
    }

    function clamp(int256 x, int256 bound) internal pure returns (int256) {
        if (x > bound) return bound;
        if (x < -bound) return -bound;
        return x;
    }

    function relu(int256 x) internal pure returns (int256) {
        return x > 0 ? x : int256(0);
    }

    /// @notice One output of `linear`: clamp(rshiftRound(Σ a[t]·w[t]) + bias).
    function linearOut(int256[] memory a, int256[] memory w, int256 bias) internal pure returns (int256) {
        int256 acc = 0;
        for (uint256 t = 0; t < a.length; ++t) {
            acc += a[t] * w[t];
        }
        return clamp(rshiftRound(acc, 16) + bias, CLAMP);
    }

    /// @notice Σ x[t]·y[t] (exact in int256 for the runtime's clamped operands).
    function dot(int256[] memory x, int256[] memory y) internal pure returns (int256 acc) {
        for (uint256 t = 0; t < x.length; ++t) {
            acc += x[t] * y[t];
        }
    }

    /// @notice One output of `grad_weight`: clamp(rshiftRound(Σ_b g[b]·a[b])) over a column of g and one of a.
    function gradWeightOut(int256[] memory gCol, int256[] memory aCol) internal pure returns (int256) {
        return clamp(rshiftRound(dot(gCol, aCol), 16), CLAMP);
    }

    /// @notice One output of `grad_bias`: clamp(Σ_b g[b]) over a column of g.
    function gradBiasOut(int256[] memory gCol) internal pure returns (int256 acc) {
        for (uint256 b = 0; b < gCol.length; ++b) {
            acc += gCol[b];
        }
        return clamp(acc, CLAMP);
    }

    /// @notice One output of `grad_input`: clamp(rshiftRound(Σ_o g[o]·W[o])) where the layer's input z > 0, else 0.
    function gradInputOut(int256[] memory gRow, int256[] memory wCol, int256 zPrev) internal pure returns (int256) {
        if (zPrev <= 0) return 0;
        return clamp(rshiftRound(dot(gRow, wCol), 16), CLAMP);
    }

    /// @notice One parameter's `sgd` update: v = clamp(rshiftRound(μ·v) + grad, 2^24) if μ > 0 (else v = grad),
    /// w = clamp(w − divRound(lr·v, B·ONE)).
    function sgdOut(int256 w, int256 grad, int256 v, int256 lr, int256 mu, int256 batchSize)
        internal
        pure
        returns (int256 wNext, int256 vNext)
    {
        vNext = mu == 0 ? grad : clamp(rshiftRound(mu * v, 16) + grad, 1 << 24);
        wNext = clamp(w - divRound(lr * vNext, batchSize * ONE), CLAMP);
    }

    /// @notice 2^(f/ONE)·ONE for 0 <= f < ONE: Horner's rule on round(ln2^k/k!·2^16), k = 1..5.
    function exp2Frac(int256 f) internal pure returns (int256) {
        int256 acc = 87;
        acc = rshiftRound(acc * f, 16) + 630;
        acc = rshiftRound(acc * f, 16) + 3638;
        acc = rshiftRound(acc * f, 16) + 15743;
        acc = rshiftRound(acc * f, 16) + 45426;
        return ONE + rshiftRound(acc * f, 16);
    }

    /// @notice Integer softmax of one row of logits, as in fixed.softmax. The row length is the class count,
    /// fixed by the job's model (not by a caller).
    function softmax(int256[] memory z) internal pure returns (int256[] memory p) {
        int256 m = z[0];
        for (uint256 i = 1; i < z.length; ++i) {
            if (z[i] > m) m = z[i];
        }
        int256[] memory e = new int256[](z.length);
        int256 sum = 0;
        for (uint256 i = 0; i < z.length; ++i) {
            int256 t = rshiftRound((z[i] - m) * LOG2E, 16);
            int256 n = t >> 16;
            int256 f = t - (n << 16);
            uint256 shift = uint256(-n) > 62 ? 62 : uint256(-n);
            e[i] = exp2Frac(f) >> shift;
            sum += e[i];
        }
        p = new int256[](z.length);
        for (uint256 i = 0; i < z.length; ++i) {
            p[i] = (e[i] << 16) / sum; // e >= 0 and sum > 0: truncation is floor
        }
    }

    /// @notice SplitMix64's finaliser, wrapping in 64 bits.
    function splitmix64(uint64 x) internal pure returns (uint64 z) {
        // wrapping arithmetic is the definition of the hash
        unchecked {
            z = x + 0x9E3779B97F4A7C15;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            z = z ^ (z >> 31);
        }
    }

    /// @notice The training-set position of sample k of step `step`: splitmix64(splitmix64(seed) + step·B + k) mod n.
    function batchIndex(uint64 seed, uint64 step, uint64 batchSize, uint64 k, uint64 n) internal pure returns (uint64) {
        uint64 counter;
        // uint64 wrapping, as the runtime's numpy uint64 arithmetic
        unchecked {
            counter = splitmix64(seed) + step * batchSize + k;
        }
        return splitmix64(counter) % n;
    }
}
