// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IVerifierPool} from "./interfaces/IVerifierPool.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {IOneStep} from "./interfaces/IOneStep.sol";
import {IDisputeGame} from "./interfaces/IDisputeGame.sol";
import {TrainyardMerkle} from "./libraries/TrainyardMerkle.sol";

/// @title VerifierPool
/// @notice See {IVerifierPool}.
/// @dev The draw's list is append-only: an entry never moves, so once a seed is known nobody can change which
/// address a candidate index names by joining or leaving (swap-and-pop would let a sock's exit move another entry
/// into the drawn slot). Leaving only deactivates the entry; re-joining reactivates the same entry.
///
/// Two locks, for two purposes. Membership locks `verifierStake` for as long as the member stays in the draw, so a
/// draw's candidates are fixed when it is requested: who can be drawn is who was an active member at the request,
/// and nothing done after the seed is known (a deposit, a re-join) makes anyone drawable. An approval locks another
/// `verifierStake` for that one job, by the verifier's own act: a draw never locks anything, so nobody can freeze a
/// member's stake by having it drawn for a job it does not want.
contract VerifierPool is IVerifierPool {
    /// @notice Windows an approval opens at most (bounds its loop).
    uint256 public constant MAX_SAMPLES = 16;
    /// @notice Candidates one `draw` call tries at most (bounds its loop; the next call goes on).
    uint256 public constant MAX_DRAW_TRIES = 16;
    /// @notice Blocks whose hash the EVM can read.
    uint256 private constant HASH_WINDOW = 256;
    uint256 private constant BPS = 10_000;

    /// @notice The market whose jobs are verified.
    IJobMarket public immutable market;
    /// @notice Where verifier stake is locked and slashed (this pool must be authorised there).
    IStaking public immutable staking;
    /// @notice The dispute game, where approvals are challenged and which records whether an approver lost such a game.
    IDisputeGame public immutable game;
    /// @notice Stake a member keeps locked while in the draw, and stake each approval locks (burned when the approver
    /// loses a game against its approval).
    uint256 public immutable verifierStake;
    /// @notice Kept for the deployment's signature; the pool rewards nobody from a cut (a reward would pay a
    /// solver's sock for a loss the solver chose).
    uint16 public immutable slashRewardBps;
    /// @notice Share of a job's windows an approval opens (at least one, at most MAX_SAMPLES).
    uint16 public immutable sampleBps;

    /// @notice Fees and refunds awaiting `claimCredit`.
    mapping(address account => uint256) public credits;
    /// @notice Assignments a verifier has not settled yet.
    mapping(address verifier => uint256) public pending;

    /// @dev A member's state: active, and the block it last became active. It can be drawn by a request made in that
    /// block or later (`since < requestBlock`, the randomness block after the request), never by an earlier one.
    struct Member {
        bool active;
        uint64 since;
    }

    address[] private _members;
    mapping(address verifier => uint256) private _entry; // 1 + index in _members (0: never joined)
    mapping(address verifier => Member) private _member;
    /// @inheritdoc IVerifierPool
    mapping(address verifier => bool) public expelled;
    mapping(uint256 jobId => Assignment) private _assignments;

    constructor(
        IJobMarket market_,
        IStaking staking_,
        IDisputeGame game_,
        uint256 verifierStake_,
        uint16 slashRewardBps_,
        uint16 sampleBps_
    ) {
        if (verifierStake_ == 0 || verifierStake_ > type(uint96).max) revert PoolBadStake(verifierStake_);
        market = market_;
        staking = staking_;
        game = game_;
        verifierStake = verifierStake_;
        slashRewardBps = slashRewardBps_;
        sampleBps = sampleBps_;
    }

    // ------------------------------------------------------------------------------------------------ membership

    /// @inheritdoc IVerifierPool
    function register() external {
        if (_member[msg.sender].active) revert PoolAlreadyRegistered(msg.sender);
        if (expelled[msg.sender]) revert PoolExpelled(msg.sender);
        // membership is held stake: each sock entry costs the attacker verifierStake locked for as long as it stays
        uint256 free = staking.freeStake(msg.sender);
        if (free < verifierStake) revert PoolInsufficientStake(msg.sender, free, verifierStake);
        uint256 entry = _entry[msg.sender];
        if (entry == 0) {
            _members.push(msg.sender);
            entry = _members.length;
            _entry[msg.sender] = entry;
        }
        _member[msg.sender] = Member(true, uint64(block.number));
        emit Registered(msg.sender, entry - 1);
        staking.lock(msg.sender, verifierStake);
    }

    /// @inheritdoc IVerifierPool
    function deregister() external {
        if (!_member[msg.sender].active) revert PoolNotRegistered(msg.sender);
        _leave(msg.sender);
    }

    /// @dev Out of the draw, its membership stake freed (approvals keep their own locks until settled).
    function _leave(address v) private {
        _member[v].active = false;
        emit Deregistered(v);
        staking.unlock(v, verifierStake);
    }

    // ------------------------------------------------------------------------------------------------ funding, draw

    /// @inheritdoc IVerifierPool
    function fund(uint256 jobId) external payable {
        if (msg.value == 0 || jobId == 0 || jobId > market.jobCount()) revert PoolBadFunding(jobId, msg.value);
        address submitter = market.job(jobId).submitter;
        if (msg.sender != submitter) revert PoolNotSubmitter(jobId, msg.sender, submitter);
        Assignment storage a = _assignments[jobId];
        if (a.settled) revert PoolSettled(jobId);
        if (a.verifier != address(0)) revert PoolAlreadyDrawn(jobId, a.verifier);
        uint256 fee = uint256(a.fee) + msg.value;
        if (fee > type(uint96).max) revert PoolBadFunding(jobId, msg.value);
        (a.funder, a.fee) = (msg.sender, uint96(fee));
        emit Funded(jobId, msg.sender, msg.value, fee);
    }

    /// @inheritdoc IVerifierPool
    function requestDraw(uint256 jobId) external {
        Assignment storage a = _assignments[jobId];
        if (a.funder == address(0)) revert PoolNotFunded(jobId);
        if (a.requestBlock != 0) revert PoolDrawRequested(jobId, a.requestBlock);
        _checkOpen(jobId);
        uint256 n = _members.length;
        if (n == 0) revert PoolNoVerifier(jobId);
        bytes32 fallbackSeed = keccak256(abi.encode(blockhash(block.number - 1), block.prevrandao, jobId));
        // candidates are the entries that exist now (all of them below 2^32 entries, the first 2^32 beyond)
        if (n > type(uint32).max) n = type(uint32).max;
        (a.requestBlock, a.members, a.fallbackSeed) = (uint40(block.number + 1), uint32(n), fallbackSeed);
        emit DrawRequested(jobId, block.number + 1, n, fallbackSeed);
    }

    /// @inheritdoc IVerifierPool
    function draw(uint256 jobId) external {
        Assignment storage a = _assignments[jobId];
        if (a.verifier != address(0)) revert PoolAlreadyDrawn(jobId, a.verifier);
        if (a.requestBlock == 0 || block.number <= a.requestBlock) revert PoolDrawNotReady(jobId, a.requestBlock);
        _checkOpen(jobId);
        bytes32 seed = a.seed;
        if (seed == bytes32(0)) {
            // the requested block's hash while the EVM can read it, the value fixed at the request after: waiting
            // 256 blocks gives no new roll, and the first draw to read the randomness fixes it for good
            seed = block.number <= uint256(a.requestBlock) + HASH_WINDOW
                ? keccak256(abi.encode(blockhash(a.requestBlock), jobId))
                : a.fallbackSeed;
            a.seed = seed;
        }
        address solver = market.job(jobId).winner;
        uint256 n = a.members;
        uint256 from = a.tries;
        uint256 requested = a.requestBlock;
        address chosen = address(0);
        for (uint256 k = from; k < from + MAX_DRAW_TRIES; ++k) {
            // slither-disable-next-line weak-prng (a block hash seeds it on purpose: docs/disputes.md, the draw's randomness)
            address v = _members[uint256(keccak256(abi.encode(seed, k))) % n];
            Member memory m = _member[v];
            // an active member since before the randomness block: one that (re)joined after cannot be drawn, and its
            // stake is already held, so nothing done once the seed is known makes anyone drawable
            if (v != solver && m.active && m.since < requested) {
                chosen = v;
                break;
            }
        }
        if (chosen == address(0)) {
            a.tries += uint32(MAX_DRAW_TRIES);
            emit DrawMissed(jobId, seed, a.tries);
            return;
        }
        a.verifier = chosen;
        pending[chosen] += 1;
        emit Drawn(jobId, chosen, seed);
    }

    /// @dev Draws and approvals happen while the result can still be disputed.
    function _checkOpen(uint256 jobId) private view {
        IJobMarket.JobState s = market.state(jobId);
        if (s != IJobMarket.JobState.Challenge && s != IJobMarket.JobState.Disputed) revert PoolWrongState(jobId, uint8(s));
    }

    // ------------------------------------------------------------------------------------------------ approval

    /// @inheritdoc IVerifierPool
    function approve(uint256 jobId, IOneStep.SpecCore calldata core, Opening[] calldata openings) external {
        Assignment storage a = _assignments[jobId];
        if (a.verifier != msg.sender || a.approved) revert PoolNotDrawn(jobId, msg.sender);
        _checkOpen(jobId);
        IJobMarket.JobInfo memory j = market.job(jobId);
        // approvals close halfway through the challenge period, so every approval leaves at least half of it to
        // contest the windows it opened (an approval in the last second could never be proven wrong)
        uint256 closes = j.resultAt + j.challengePeriod / 2;
        if (j.resultAt == 0 || block.timestamp >= closes) revert PoolApprovalClosed(jobId, closes);
        if (keccak256(abi.encode(core)) != j.specHash) revert PoolBadSpecCore(jobId);
        (uint256[] memory ws, uint256[] memory js) = _samples(jobId, a.seed, j.numWindows, core.checkpointInterval);
        if (openings.length != ws.length) revert PoolBadOpening(jobId, openings.length);
        for (uint256 i = 0; i < ws.length; ++i) {
            if (!_opens(openings[i], ws[i], js[i], j, core.checkpointInterval)) revert PoolBadOpening(jobId, i);
        }
        // the approval's own stake, locked by the verifier's own act: what a proven-wrong opened window costs it
        uint256 free = staking.freeStake(msg.sender);
        if (free < verifierStake) revert PoolInsufficientStake(msg.sender, free, verifierStake);
        (a.approved, a.locked) = (true, uint96(verifierStake));
        emit Approved(jobId, msg.sender, verifierStake);
        staking.lock(msg.sender, verifierStake);
    }

    /// @inheritdoc IVerifierPool
    function samples(uint256 jobId, uint256 windows, uint256 interval)
        external
        view
        returns (uint256[] memory w, uint256[] memory j)
    {
        return _samples(jobId, _assignments[jobId].seed, windows, interval);
    }

    function _samples(uint256 jobId, bytes32 seed, uint256 windows, uint256 interval)
        private
        view
        returns (uint256[] memory w, uint256[] memory j)
    {
        uint256 inner = _inner(interval);
        if (inner == 0) revert PoolUnsupportedInterval(jobId, interval);
        uint256 k = _sampleCount(windows);
        w = new uint256[](k);
        j = new uint256[](k);
        for (uint256 i = 0; i < k; ++i) {
            w[i] = _sampledWindow(seed, i, windows);
            // slither-disable-next-line weak-prng (the draw's seed: docs/disputes.md, the draw's randomness)
            j[i] = uint256(keccak256(abi.encode(seed, i, 1))) % inner;
        }
    }

    /// @dev Windows an approval opens: sampleBps of them, rounded up, in [1, MAX_SAMPLES].
    function _sampleCount(uint256 windows) private view returns (uint256 k) {
        k = (windows * sampleBps + BPS - 1) / BPS;
        if (k == 0) k = 1;
        if (k > MAX_SAMPLES) k = MAX_SAMPLES;
    }

    function _sampledWindow(bytes32 seed, uint256 i, uint256 windows) private pure returns (uint256) {
        // slither-disable-next-line weak-prng (the draw's seed: docs/disputes.md, the draw's randomness)
        return uint256(keccak256(abi.encode(seed, i, 0))) % windows;
    }

    function _opens(Opening calldata o, uint256 w, uint256 step, IJobMarket.JobInfo memory j, uint256 interval)
        private
        pure
        returns (bool)
    {
        bytes memory leaf = abi.encodePacked(uint64(w), o.stateRoot, o.cidHash, o.interiorRoot);
        if (!TrainyardMerkle.verify(leaf, w, j.leafCount, o.leafProof, j.traceRoot)) return false;
        return TrainyardMerkle.verify(
            abi.encodePacked(uint64(step), o.digest), step, _points(interval), o.digestProof, o.interiorRoot
        );
    }

    /// @dev Steps between interior points (trainyard.runtime.commit.interior_stride).
    function _stride(uint256 interval) private pure returns (uint256) {
        uint256 stride = interval / 16;
        return stride == 0 ? 1 : stride;
    }

    /// @dev Leaves of a window's interior tree (trainyard.runtime.commit.interior_count): point j is the state after
    /// (j+1)·stride steps.
    function _points(uint256 interval) private pure returns (uint256) {
        return interval / _stride(interval);
    }

    /// @dev Interior points strictly inside the window, (j+1)·stride < interval: never the window's end state,
    /// whose checkpoint is published (0 for a window of one step).
    function _inner(uint256 interval) private pure returns (uint256) {
        return interval == 0 ? 0 : (interval - 1) / _stride(interval);
    }

    // ------------------------------------------------------------------------------------------------ settlement

    /// @inheritdoc IVerifierPool
    function settle(uint256 jobId) external {
        Assignment storage a = _assignments[jobId];
        if (a.funder == address(0) || a.settled) revert PoolSettled(jobId);
        IJobMarket.JobState s = market.state(jobId);
        bool finalized = s == IJobMarket.JobState.Finalized;
        bool slashed = s == IJobMarket.JobState.Slashed;
        if (!finalized && !slashed && s != IJobMarket.JobState.Cancelled && s != IJobMarket.JobState.Refunded) {
            revert PoolWrongState(jobId, uint8(s));
        }
        if (a.approved) _checkUncontestable(jobId);
        // an approver loses only a game against its own approval, which it defends with its own re-execution: never
        // because of the solver's games, which the solver can lose on purpose (on time or by a wrong answer)
        bool cut = a.approved && game.approverLost(jobId);
        a.settled = true;
        address v = a.verifier;
        uint256 locked = a.locked;
        uint256 paid = finalized && a.approved && !cut ? a.fee : 0;
        credits[paid != 0 ? v : a.funder] += a.fee;
        if (v != address(0)) pending[v] -= 1;
        emit Settled(jobId, v, paid, cut ? locked : 0);
        if (cut) {
            expelled[v] = true; // a verifier that lost a game against its approval leaves the draw for good
            emit Expelled(v);
            if (_member[v].active) _leave(v);
        }
        if (locked == 0) return;
        // exactly what this assignment locked: burned whole (reward 0, so no sock of the solver profits), or freed
        if (cut) staking.slash(v, locked, address(0), 0);
        else staking.unlock(v, locked);
    }

    /// @dev An approval is settled once nobody can challenge it any more: after the challenge period, with no game
    /// against it still live.
    function _checkUncontestable(uint256 jobId) private view {
        IJobMarket.JobInfo memory j = market.job(jobId);
        uint256 until = j.resultAt + j.challengePeriod;
        if (block.timestamp < until) revert PoolApprovalContestable(jobId, until);
        if (game.liveApprovalGames(jobId) != 0) revert PoolApprovalContestable(jobId, 0);
    }

    /// @inheritdoc IVerifierPool
    function approverOf(uint256 jobId, uint256 window) external view returns (address) {
        Assignment storage a = _assignments[jobId];
        if (!a.approved) return address(0);
        uint256 windows = market.job(jobId).numWindows;
        uint256 k = _sampleCount(windows);
        for (uint256 i = 0; i < k; ++i) {
            // slither-disable-next-line incorrect-equality (window indices, not balances)
            if (_sampledWindow(a.seed, i, windows) == window) return a.verifier;
        }
        return address(0);
    }

    /// @inheritdoc IVerifierPool
    function canSettle(uint256 jobId) external view returns (bool) {
        Assignment storage a = _assignments[jobId];
        if (a.funder == address(0) || a.settled) return false;
        IJobMarket.JobState s = market.state(jobId);
        if (s != IJobMarket.JobState.Finalized && s != IJobMarket.JobState.Slashed
            && s != IJobMarket.JobState.Cancelled && s != IJobMarket.JobState.Refunded) return false;
        if (!a.approved) return true;
        IJobMarket.JobInfo memory j = market.job(jobId);
        return block.timestamp >= j.resultAt + j.challengePeriod && game.liveApprovalGames(jobId) == 0;
    }

    /// @inheritdoc IVerifierPool
    function claimCredit() external {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert PoolNoCredit(msg.sender);
        credits[msg.sender] = 0;
        emit CreditClaimed(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert PoolTransferFailed(msg.sender, amount);
    }

    // ------------------------------------------------------------------------------------------------ views

    /// @inheritdoc IVerifierPool
    function approvalDeadline(uint256 jobId) external view returns (uint256) {
        IJobMarket.JobInfo memory j = market.job(jobId);
        return j.resultAt == 0 ? 0 : j.resultAt + j.challengePeriod / 2;
    }

    /// @inheritdoc IVerifierPool
    function assignment(uint256 jobId) external view returns (Assignment memory) {
        return _assignments[jobId];
    }

    /// @inheritdoc IVerifierPool
    function isMember(address verifier) external view returns (bool) {
        return _member[verifier].active;
    }

    /// @inheritdoc IVerifierPool
    function memberCount() external view returns (uint256) {
        return _members.length;
    }

    /// @inheritdoc IVerifierPool
    function memberAt(uint256 index) external view returns (address verifier, bool active) {
        verifier = _members[index];
        active = _member[verifier].active;
    }
}
