// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title TrainyardMerkle
/// @notice RFC 9162 Merkle trees over SHA-256, the scheme of `trainyard/merkle.py`: leaf = sha256(0x00 || data),
/// node = sha256(0x01 || left || right), a tree of n leaves split at the largest power of two below n. Trainyard
/// leaves carry their index: data = uint64_be(index) || payload.
library TrainyardMerkle {
    /// @notice A proof longer than any tree of 2^64 leaves needs.
    error TrainyardMerkleProofTooLong(uint256 length);

    uint256 internal constant MAX_PROOF = 64;

    function leafHash(bytes memory data) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), data));
    }

    function nodeHash(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }

    /// @notice The data of leaf `index` with `payload`.
    function indexedLeaf(uint64 index, bytes memory payload) internal pure returns (bytes memory) {
        return abi.encodePacked(index, payload);
    }

    /// @notice The root implied by a leaf hash and its inclusion path (RFC 9162, 2.1.3.2); ok is false for a
    /// malformed proof.
    function rootFromProof(bytes32 leaf, uint256 index, uint256 size, bytes32[] memory proof)
        internal
        pure
        returns (bool ok, bytes32 root)
    {
        if (proof.length > MAX_PROOF) revert TrainyardMerkleProofTooLong(proof.length);
        if (index >= size) return (false, bytes32(0));
        uint256 fn = index;
        uint256 sn = size - 1;
        root = leaf;
        for (uint256 i = 0; i < proof.length; ++i) {
            if (sn == 0) return (false, bytes32(0));
            if (fn & 1 == 1 || fn == sn) {
                root = nodeHash(proof[i], root);
                if (fn & 1 == 0) {
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                root = nodeHash(root, proof[i]);
            }
            fn >>= 1;
            sn >>= 1;
        }
        ok = sn == 0;
    }

    /// @notice Whether raw leaf `data` sits at `index` of the `size`-leaf tree with root `root`.
    function verify(bytes memory data, uint256 index, uint256 size, bytes32[] memory proof, bytes32 root)
        internal
        pure
        returns (bool)
    {
        (bool ok, bytes32 r) = rootFromProof(leafHash(data), index, size, proof);
        return ok && r == root;
    }
}
