// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The one-step semantics of a Trainyard training step
/// @notice Which slots each op of a step reads and writes, and the recomputation of one output value of one op from
/// its inputs opened against the agreed machine state (docs/disputes.md). Stateless; the dispute game calls it.
interface IOneStep {
    /// @notice What fixes the training of a job; `keccak256(abi.encode(core))` is the job's spec hash.
    struct SpecCore {
        bytes32 docHash;
        bytes32 initialRoot;
        bytes32 dataRoot;
        uint32 nTrain;
        uint32 batchSize;
        uint32 checkpointInterval;
        uint64 seed;
        int64 lr;
        int64 momentum;
        uint32[] layers;
    }

    /// @notice Chunks of one tensor (increasing chunk index, each once) with their inclusion proofs.
    struct Chunks {
        uint256[] index;
        bytes[] data;
        bytes32[][] proofs;
    }

    /// @notice One training row of the dataset, opened against the spec core's data root.
    struct DataRow {
        uint256 index;
        uint64 label;
        bytes features;
        bytes32[] proof;
    }

    /// @notice Which value of which op to recompute: value `pos` (flat, row-major) of the `outIndex`-th tensor op
    /// `op` computes at training step `step`.
    struct Query {
        uint256 step;
        uint256 op;
        uint256 outIndex;
        uint256 pos;
    }

    /// @notice The model has no layer, a width of zero, or more layers than the game supports.
    error OneStepBadCore();
    /// @notice A job's spec core is outside what a dispute can settle on chain: `what` is `value`, the limit
    /// `limit` (a lower bound for counts that must be at least something, an upper bound otherwise).
    error OneStepUnsupported(string what, uint256 value, uint256 limit);
    /// @notice An op index outside 1..7L+1.
    error OneStepBadOp(uint256 op, uint256 opCount);
    /// @notice A machine state with the wrong number of slots.
    error OneStepBadSlotCount(uint256 given, uint256 expected);
    /// @notice A slot the op does not write changed, or a slot it empties is not empty, or a wrong step slot.
    error OneStepBadTransition(uint256 slot);
    /// @notice The leaf hashes revealed for an output tensor do not match its commitment, count or header.
    error OneStepBadOutput(uint256 outIndex);
    /// @notice An output index or a position beyond the op's outputs.
    error OneStepBadPosition(uint256 outIndex, uint256 position);
    /// @notice The number of opened input tensors is not the op's.
    error OneStepBadInputs(uint256 given, uint256 expected);
    /// @notice An opened chunk does not verify against its tensor, or is missing, or out of order.
    error OneStepBadChunk(uint256 input, uint256 chunk);
    /// @notice The data row is not the one the batch draws, or does not verify against the data root.
    error OneStepBadRow(uint256 index);

    /// @notice The number of ops of one step of a model with `nLayers` layers: 7L + 1.
    /// @param nLayers L.
    /// @return N.
    function opCount(uint256 nLayers) external pure returns (uint256);

    /// @notice Revert with `OneStepUnsupported` unless every op of every step of a job with this spec core can be
    /// settled by a dispute on chain: 2 to MAX_LAYERS + 1 = 17 widths (at most 16 layers), each width 1 to
    /// MAX_WIDTH = 64, batch 1 to MAX_BATCH = 32, nTrain at least 1, checkpoint interval at least 2. With these
    /// every dispute transaction carries well under 128 KiB of calldata (the derivation is in OneStep.sol and
    /// docs/contracts.md). trainyard/spec.py checks the same numbers before anything is sent. The market calls it when a job is
    /// posted and the dispute game when a game is opened, so a job nobody could dispute is never accepted.
    /// @param core The job's spec core.
    function checkLimits(SpecCore calldata core) external pure;

    /// @notice The RFC 9162 root of a machine state's slot values (leaf i = uint64_be(i) || value i).
    /// @param values The slot values.
    /// @return The root.
    function machineRoot(bytes32[] calldata values) external pure returns (bytes32);

    /// @notice Check that `next` can follow `prev` under op `op` as far as the slots the op does not compute go, and
    /// that the leaf-hash lists of its computed tensors match their commitments in `next`; reverts otherwise.
    /// @param core The job's spec core.
    /// @param op The op index (1..N).
    /// @param prev Slot values of the agreed state before the op.
    /// @param next Slot values of the solver's state after the op.
    /// @param outputHashes For each tensor the op computes, in order, the leaf hashes of its commitment.
    /// @return sizes The number of values of each computed tensor.
    /// @return commitments The commitment of each computed tensor in `next`.
    function checkTransition(
        SpecCore calldata core,
        uint256 op,
        bytes32[] calldata prev,
        bytes32[] calldata next,
        bytes32[][] calldata outputHashes
    ) external pure returns (uint256[] memory sizes, bytes32[] memory commitments);

    /// @notice The number of values in the `outIndex`-th tensor op `op` computes (its chunk c holds values
    /// 64c..64c+63).
    /// @param core The job's spec core.
    /// @param op The op index.
    /// @param outIndex Which computed tensor.
    /// @return The number of values.
    function outputSize(SpecCore calldata core, uint256 op, uint256 outIndex) external pure returns (uint256);

    /// @notice Recompute one value of one op from inputs opened against the agreed state `prev` (whose root the
    /// caller checks).
    /// @param core The job's spec core.
    /// @param q The step, op, output tensor and position.
    /// @param prev Slot values of the agreed state.
    /// @param inputs Chunks of each input tensor of the op, in the op's order.
    /// @param row The data row (op `batch` only).
    /// @return The value, as the exact runtime computes it.
    function expectedValue(
        SpecCore calldata core,
        Query calldata q,
        bytes32[] calldata prev,
        Chunks[] calldata inputs,
        DataRow calldata row
    ) external pure returns (int256);
}
