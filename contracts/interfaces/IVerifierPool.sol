// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOneStep} from "./IOneStep.sol";

/// @title Trainyard verifier pool
/// @notice Verifiers join by locking `verifierStake` for as long as they stay. A job's submitter funds its
/// verification; once the result is in, one member is drawn with randomness fixed after the solver's result (the
/// hash of a block after the draw was requested, or a value fixed at the request if nobody draws within 256
/// blocks), among the members active since before that block. A draw locks nothing: the drawn verifier re-executes
/// the windows the same randomness samples and approves (locking another `verifierStake` for this job alone), before
/// half the challenge period has passed, or disputes through the game, or lets the assignment lapse. An approval is a proof of re-execution: for
/// each sampled window it opens the digest of the state after one sampled step strictly inside the window against
/// the window's interior root in the trace, a value that only re-executing the window (or the solver's help) gives.
/// After the job: an approval of a job that finalized earns the fee; an approval costs the locked stake (all of it
/// burned, nobody rewarded) only if the job's solver lost a game by the one-step proof in a window the approval
/// opened; in every other case the lock is released.
interface IVerifierPool {
    /// @notice A job's verification.
    /// @param funder The job's submitter once it funded (zero: not funded).
    /// @param fee Wei paid for the verification.
    /// @param verifier The drawn verifier (zero: not drawn).
    /// @param locked Stake the approval locked from `verifier` for this job (what a cut takes, what settle frees).
    /// @param requestBlock The block whose hash seeds the draw (zero: not requested).
    /// @param members Pool entries eligible for this draw: those that existed at the request.
    /// @param tries Candidates already tried by draws that found nobody eligible.
    /// @param approved Whether the verifier approved.
    /// @param settled Whether the assignment was settled.
    /// @param fallbackSeed Fixed at the request: the draw's randomness if nobody draws within 256 blocks.
    /// @param seed The draw's seed (zero until a draw read its randomness).
    struct Assignment {
        address funder;
        uint96 fee;
        address verifier;
        uint96 locked;
        uint40 requestBlock;
        uint32 members;
        uint32 tries;
        bool approved;
        bool settled;
        bytes32 fallbackSeed;
        bytes32 seed;
    }

    /// @notice A verifier stake of zero or beyond what an assignment records (96 bits).
    error PoolBadStake(uint256 stake);
    /// @notice The caller is already an active member.
    error PoolAlreadyRegistered(address verifier);
    /// @notice The verifier lost a game against its approval: it may never join again.
    error PoolExpelled(address verifier);
    /// @notice The caller is not an active member.
    error PoolNotRegistered(address verifier);
    /// @notice Joining needs `needed` of free stake; the caller has `free`.
    error PoolInsufficientStake(address verifier, uint256 free, uint256 needed);
    /// @notice No such job, a zero payment, or a fee beyond 96 bits.
    error PoolBadFunding(uint256 jobId, uint256 value);
    /// @notice Only the job's submitter funds its verification.
    error PoolNotSubmitter(uint256 jobId, address caller, address submitter);
    /// @notice The job's verification is not funded.
    error PoolNotFunded(uint256 jobId);
    /// @notice The spec core does not hash to the job's spec hash.
    error PoolBadSpecCore(uint256 jobId);
    /// @notice A window length with no step strictly inside the window (the market refuses it at postJob).
    error PoolUnsupportedInterval(uint256 jobId, uint256 interval);
    /// @notice Opening `index` does not open its sample (or the number of openings is wrong).
    error PoolBadOpening(uint256 jobId, uint256 index);
    /// @notice The job is not in a state that allows the call.
    error PoolWrongState(uint256 jobId, uint8 state);
    /// @notice The draw was already requested, for block `block_`.
    error PoolDrawRequested(uint256 jobId, uint256 block_);
    /// @notice The block whose hash seeds the draw is not mined yet (or no draw was requested: block 0).
    error PoolDrawNotReady(uint256 jobId, uint256 block_);
    /// @notice The job's verifier is already drawn.
    error PoolAlreadyDrawn(uint256 jobId, address verifier);
    /// @notice The pool had no member when the draw was requested.
    error PoolNoVerifier(uint256 jobId);
    /// @notice The caller is not the job's drawn verifier, or it already approved.
    error PoolNotDrawn(uint256 jobId, address caller);
    /// @notice The assignment was already settled (or never funded).
    error PoolSettled(uint256 jobId);
    /// @notice The caller has no credit to claim.
    error PoolNoCredit(address account);
    /// @notice Sending ETH failed.
    error PoolTransferFailed(address to, uint256 amount);
    /// @notice Approvals of the job closed at `closedAt` (half its challenge period after the result), or it has no
    /// result yet.
    error PoolApprovalClosed(uint256 jobId, uint256 closedAt);
    /// @dev An approval can still be challenged (until `until`, the end of the challenge period) or games against it
    /// are live (`until` = 0): it is settled after.
    error PoolApprovalContestable(uint256 jobId, uint256 until);

    /// @notice A verifier is put out of the pool for good (it lost a game against its approval).
    event Expelled(address indexed verifier);
    /// @notice `verifier` became an active member, at entry `index` of the draw's list.
    event Registered(address indexed verifier, uint256 index);
    /// @notice `verifier` is no longer drawn (its entry stays, inactive).
    event Deregistered(address indexed verifier);
    /// @notice The submitter paid `amount`; the job's fee is now `fee`.
    event Funded(uint256 indexed jobId, address indexed funder, uint256 amount, uint256 fee);
    /// @notice The draw will read the hash of `randomnessBlock`, among the first `members` entries.
    event DrawRequested(uint256 indexed jobId, uint256 randomnessBlock, uint256 members, bytes32 fallbackSeed);
    /// @notice A draw tried candidates up to `tries` and found none eligible; the next draw goes on from there.
    event DrawMissed(uint256 indexed jobId, bytes32 seed, uint256 tries);
    /// @notice `verifier` was drawn with `seed` (nothing locked: it approves, and locks, or lets it lapse).
    event Drawn(uint256 indexed jobId, address indexed verifier, bytes32 seed);
    /// @notice The drawn verifier approved, having opened every sample, and `locked` of its stake for this job.
    event Approved(uint256 indexed jobId, address indexed verifier, uint256 locked);
    /// @notice The assignment ended: `paid` to the verifier, `slashed` of its stake burned (the rest unlocked).
    event Settled(uint256 indexed jobId, address indexed verifier, uint256 paid, uint256 slashed);
    /// @notice `account` was sent its credits.
    event CreditClaimed(address indexed account, uint256 amount);

    /// @notice Join the draw, locking `verifierStake` of the caller's free stake until it leaves. An address keeps
    /// one entry for good, and re-joining reactivates it; a member can be drawn only by requests made after it
    /// (re)joined. An expelled address cannot join.
    function register() external;

    /// @notice Leave the draw, freeing the membership stake. Approvals already made keep their locks until settled.
    function deregister() external;

    /// @notice Pay (or, until the draw, top up) the verification fee of a job. Only the job's submitter.
    /// @param jobId The job.
    function fund(uint256 jobId) external payable;

    /// @notice Once the job's result is in, fix the block whose hash will draw the verifier (the next one), the
    /// entries that can be drawn (those that exist now) and the fallback randomness. Once per job: never renewed.
    /// @param jobId The job (funded, in its challenge period or disputed).
    function requestDraw(uint256 jobId) external;

    /// @notice Draw the job's verifier: candidates keccak(seed, k) mod members for k = tries, tries + 1, ... (at
    /// most MAX_DRAW_TRIES per call); the first that is not the solver and has been an active member since before the
    /// randomness block is drawn (nothing is locked). If none is, the call records how far it got and the next call goes on. The seed is
    /// keccak(hash of the requested block, jobId) while that hash is readable, the fallback after, and never
    /// changes once a draw has read it.
    /// @param jobId The job (in its challenge period or disputed).
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

    /// @notice The drawn verifier approves the job's result, opening every (window, step) of {samples}, and locks
    /// `verifierStake` of its free stake for this job. Only before `approvalDeadline` (half the challenge period
    /// after the result), so that whatever it approves can be contested for at least as long again.
    /// @param jobId The job.
    /// @param core The job's spec core (for the window length).
    /// @param openings One per sample, in order.
    function approve(uint256 jobId, IOneStep.SpecCore calldata core, Opening[] calldata openings) external;

    /// @notice The (window, interior point) pairs an approval of the job must open, from the draw's seed. Sample i:
    /// window keccak(seed, i, 0) mod windows, point keccak(seed, i, 1) mod the points strictly inside a window,
    /// (interval − 1) / stride, so that no sample is the window's end state (whose checkpoint is published).
    /// @param jobId The job (drawn).
    /// @param windows The job's number of windows.
    /// @param interval Steps per window (at least 2).
    /// @return w Sampled windows.
    /// @return j Sampled interior points, 0-based inside their window.
    function samples(uint256 jobId, uint256 windows, uint256 interval)
        external
        view
        returns (uint256[] memory w, uint256[] memory j);

    /// @notice After the job ended, and for an approval once it can no longer be challenged (the challenge period
    /// is over and no game against it is live): burn the approval's stake if its verifier lost a game against it
    /// (`DisputeGame.approverLost`: nobody is rewarded, and the verifier leaves the draw), release it otherwise; pay
    /// the fee to an approver of a finalized job that was not cut, back to the funder in every other case.
    /// @param jobId The job.
    function settle(uint256 jobId) external;

    /// @notice The verifier whose approval of the job opened `window` (zero: not approved, or not a sampled window):
    /// who defends that window in a game against the approval.
    /// @param jobId The job.
    /// @param window A trace window.
    /// @return The approver, or the zero address.
    function approverOf(uint256 jobId, uint256 window) external view returns (address);

    /// @notice Whether `settle` would go through now.
    /// @param jobId The job.
    /// @return Whether it can be settled.
    function canSettle(uint256 jobId) external view returns (bool);

    /// @notice Send the caller its credits (fees, refunds).
    function claimCredit() external;

    /// @notice A job's verification.
    /// @param jobId The job.
    /// @return The assignment.
    function assignment(uint256 jobId) external view returns (Assignment memory);

    /// @notice When approvals of a job close: its result time plus half its challenge period (0: no result yet).
    /// @param jobId The job.
    /// @return The first timestamp at which `approve` reverts `PoolApprovalClosed`.
    function approvalDeadline(uint256 jobId) external view returns (uint256);

    /// @notice Whether `verifier` is an active member (can be drawn).
    /// @param verifier The address.
    /// @return Whether it is.
    function isMember(address verifier) external view returns (bool);

    /// @notice Whether the verifier lost a game against its approval (DisputeGame.challengeApproval), which puts it
    /// out of the pool for good (`register` refuses it).
    /// @param verifier The account.
    /// @return True once expelled.
    function expelled(address verifier) external view returns (bool);

    /// @notice Entries of the draw's list (every address that ever joined, active or not).
    /// @return The count.
    function memberCount() external view returns (uint256);

    /// @notice Entry `index` of the draw's list.
    /// @param index 0-based.
    /// @return verifier Its address.
    /// @return active Whether it is an active member.
    function memberAt(uint256 index) external view returns (address verifier, bool active);
}
