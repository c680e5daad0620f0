// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOneStep} from "./IOneStep.sol";

/// @title Trainyard verifier pool
/// @notice Verifiers lock stake to join. A job whose verification is funded gets one verifier drawn from the pool
/// with randomness fixed only after the solver's result (the hash of a block after the draw was requested). The
/// drawn verifier re-executes the windows the same randomness samples and approves, or disputes through the game.
/// An approval is a proof of re-execution: for each sampled window it opens the digest of the state after one
/// sampled step inside the window against the window's interior root in the trace, a value that only re-executing
/// the window (or the solver's help) gives. After the job: an approval of a job that finalized earns the fee; an
/// approval of a job whose solver was later proven wrong costs the verifier its stake (half to whoever proved it,
/// half burned).
interface IVerifierPool {
    /// @notice A job's verification.
    struct Assignment {
        address funder;
        uint96 fee;
        address verifier;
        uint40 requestBlock;
        bool approved;
        bool settled;
        bytes32 seed;
    }

    error PoolAlreadyRegistered(address verifier);
    error PoolNotRegistered(address verifier);
    error PoolFull(uint256 max);
    error PoolHasAssignments(address verifier, uint256 pending);
    error PoolBadFunding(uint256 jobId);
    error PoolBadSpecCore(uint256 jobId);
    error PoolBadOpening(uint256 jobId, uint256 index);
    error PoolWrongState(uint256 jobId, uint8 state);
    error PoolDrawNotReady(uint256 jobId, uint256 block_);
    error PoolAlreadyDrawn(uint256 jobId, address verifier);
    error PoolNoVerifier(uint256 jobId);
    error PoolNotDrawn(uint256 jobId, address caller);
    error PoolSettled(uint256 jobId);
    error PoolNoCredit(address account);
    error PoolTransferFailed(address to, uint256 amount);

    event Registered(address indexed verifier, uint256 stake);
    event Deregistered(address indexed verifier);
    event Funded(uint256 indexed jobId, address indexed funder, uint256 fee);
    event DrawRequested(uint256 indexed jobId, uint256 randomnessBlock);
    event Drawn(uint256 indexed jobId, address indexed verifier, bytes32 seed);
    event Approved(uint256 indexed jobId, address indexed verifier);
    event Settled(uint256 indexed jobId, address indexed verifier, uint256 paid, uint256 slashed);
    event CreditClaimed(address indexed account, uint256 amount);

    /// @notice Join the pool: locks `verifierStake` of the caller's free stake in Staking.
    function register() external;

    /// @notice Leave the pool and unlock the stake (only without pending assignments).
    function deregister() external;

    /// @notice Pay the verification fee of a job (once, before its draw).
    /// @param jobId The job.
    function fund(uint256 jobId) external payable;

    /// @notice Once the job's result is in, fix the block whose hash will draw the verifier (the next one).
    /// @param jobId The job (funded, in its challenge period or disputed).
    function requestDraw(uint256 jobId) external;

    /// @notice Draw the job's verifier (not the solver) and the sampling seed from the requested block's hash.
    /// @param jobId The job.
    function draw(uint256 jobId) external;

    /// @notice An approval's opening of sampled window w and sampled interior point j: the trace leaf of w and the
    /// digest of the state after (j+1)·stride of the window's steps (stride = max(1, steps per window / 16)) in the
    /// leaf's interior tree.
    struct Opening {
        bytes32 stateRoot;
        bytes32 cidHash;
        bytes32 interiorRoot;
        bytes32[] leafProof;
        bytes32 digest;
        bytes32[] digestProof;
    }

    /// @notice The drawn verifier approves the job's result, before the job leaves its challenge period, opening
    /// every (window, step) of {samples}.
    /// @param jobId The job.
    /// @param core The job's spec core (for the window length).
    /// @param openings One per sample, in order.
    function approve(uint256 jobId, IOneStep.SpecCore calldata core, Opening[] calldata openings) external;

    /// @notice The (window, step inside the window) pairs an approval of the job must open, from the draw's seed.
    /// @param jobId The job (drawn).
    /// @param windows The job's number of windows.
    /// @param interval Steps per window.
    /// @return w Sampled windows.
    /// @return j Sampled interior points, 0-based inside their window.
    function samples(uint256 jobId, uint256 windows, uint256 interval)
        external
        view
        returns (uint256[] memory w, uint256[] memory j);

    /// @notice After the job ended: pay an approval of a finalized job, slash an approval of a slashed job (reward to
    /// whoever won the dispute), or return the fee to the funder.
    /// @param jobId The job.
    function settle(uint256 jobId) external;

    /// @notice Send the caller its credits (fees, refunds).
    function claimCredit() external;

    /// @notice A job's verification.
    /// @param jobId The job.
    /// @return The assignment.
    function assignment(uint256 jobId) external view returns (Assignment memory);

    /// @notice The registered verifiers.
    /// @return Their addresses.
    function verifiers() external view returns (address[] memory);
}
