// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TrainyardMerkle} from "../libraries/TrainyardMerkle.sol";

/// @notice Exposes TrainyardMerkle for tests (not deployed by Trainyard).
contract MerkleHarness {
    /// @notice See {TrainyardMerkle-verify}.
    function verify(bytes calldata data, uint256 index, uint256 size, bytes32[] calldata proof, bytes32 root)
        external
        pure
        returns (bool)
    {
        return TrainyardMerkle.verify(data, index, size, proof, root);
    }

    /// @notice See {TrainyardMerkle-verify}, on an index-bound leaf.
    function verifyIndexed(bytes calldata payload, uint64 index, uint256 size, bytes32[] calldata proof, bytes32 root)
        external
        pure
        returns (bool)
    {
        return TrainyardMerkle.verify(TrainyardMerkle.indexedLeaf(index, payload), index, size, proof, root);
    }

    /// @notice Gas of one verification, for the benchmarks.
    function verifyGas(bytes calldata data, uint256 index, uint256 size, bytes32[] calldata proof, bytes32 root)
        external
        view
        returns (bool ok, uint256 gasUsed)
    {
        uint256 before = gasleft();
        ok = TrainyardMerkle.verify(data, index, size, proof, root);
        gasUsed = before - gasleft();
    }
}
