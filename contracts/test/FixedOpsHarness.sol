// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedOps} from "../libraries/FixedOps.sol";

/// @notice Exposes FixedOps over arrays of cases, for the property tests (not deployed by Trainyard).
contract FixedOpsHarness {
    /// @notice rshiftRound of each x by k.
    function rshiftRound(int256[] calldata xs, uint256 k) external pure returns (int256[] memory out) {
        out = new int256[](xs.length);
        for (uint256 i = 0; i < xs.length; ++i) out[i] = FixedOps.rshiftRound(xs[i], k);
    }

    /// @notice divRound of each x by d.
    function divRound(int256[] calldata xs, int256 d) external pure returns (int256[] memory out) {
        out = new int256[](xs.length);
        for (uint256 i = 0; i < xs.length; ++i) out[i] = FixedOps.divRound(xs[i], d);
    }

    /// @notice exp2Frac of each f.
    function exp2Frac(int256[] calldata fs) external pure returns (int256[] memory out) {
        out = new int256[](fs.length);
        for (uint256 i = 0; i < fs.length; ++i) out[i] = FixedOps.exp2Frac(fs[i]);
    }

    /// @notice softmax of one row.
    function softmax(int256[] calldata z) external pure returns (int256[] memory) {
        return FixedOps.softmax(z);
    }

    /// @notice linearOut of one output.
    function linearOut(int256[] calldata a, int256[] calldata w, int256 bias) external pure returns (int256) {
        return FixedOps.linearOut(a, w, bias);
    }

    /// @notice splitmix64 of each x.
    function splitmix64(uint64[] calldata xs) external pure returns (uint64[] memory out) {
        out = new uint64[](xs.length);
        for (uint256 i = 0; i < xs.length; ++i) out[i] = FixedOps.splitmix64(xs[i]);
    }

    /// @notice batchIndex for k = 0..batchSize-1.
    function batch(uint64 seed, uint64 step, uint64 batchSize, uint64 n) external pure returns (uint64[] memory out) {
        out = new uint64[](batchSize);
        for (uint64 k = 0; k < batchSize; ++k) out[k] = FixedOps.batchIndex(seed, step, batchSize, k, n);
    }

    /// @notice gradWeightOut.
    function gradWeightOut(int256[] calldata g, int256[] calldata a) external pure returns (int256) {
        return FixedOps.gradWeightOut(g, a);
    }

    /// @notice gradBiasOut.
    function gradBiasOut(int256[] calldata g) external pure returns (int256) {
        return FixedOps.gradBiasOut(g);
    }

    /// @notice gradInputOut.
    function gradInputOut(int256[] calldata g, int256[] calldata w, int256 z) external pure returns (int256) {
        return FixedOps.gradInputOut(g, w, z);
    }

    /// @notice sgdOut.
    function sgdOut(int256 w, int256 grad, int256 v, int256 lr, int256 mu, int256 batchSize)
        external
        pure
        returns (int256, int256)
    {
        return FixedOps.sgdOut(w, grad, v, lr, mu, batchSize);
    }
}
