// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IVerifierPool} from "./interfaces/IVerifierPool.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {IOneStep} from "./interfaces/IOneStep.sol";
import {TrainyardMerkle} from "./libraries/TrainyardMerkle.sol";

/// @notice What the pool reads from the dispute game.
interface ISlashRecord {
    /// @notice Who was rewarded when a job's solver lost a dispute (zero if it never did).
    /// @param jobId The job.
    /// @return The rewarded challenger.
    function slashedBy(uint256 jobId) external view returns (address);
}

/// @title VerifierPool
/// @notice See {IVerifierPool}.
contract VerifierPool is IVerifierPool {
    /// @notice Registered verifiers at most (bounds deregistration's search).
    uint256 public constant MAX_VERIFIERS = 64;
    /// @notice Windows an approval opens at most (bounds its loop).
    uint256 public constant MAX_SAMPLES = 16;
    uint256 private constant BPS = 10_000;

    /// @notice The market whose jobs are verified.
    IJobMarket public immutable market;
    /// @notice Where verifier stake is locked and slashed (this pool must be authorised there).
    IStaking public immutable staking;
    /// @notice The dispute game, which records who proved a job's solver wrong.
    ISlashRecord public immutable game;
    /// @notice Stake each verifier locks, and loses for approving a wrong result.
    uint256 public immutable verifierStake;
    /// @notice Share of a slashed verifier's stake credited to whoever proved the result wrong.
    uint16 public immutable slashRewardBps;
    /// @notice Share of a job's windows an approval opens (at least one, at most MAX_SAMPLES).
    uint16 public immutable sampleBps;

    /// @notice Fees and refunds awaiting `claimCredit`.
    mapping(address account => uint256) public credits;
    /// @notice Assignments a verifier has not settled yet.
    mapping(address verifier => uint256) public pending;

    address[] private _verifiers;
    mapping(address verifier => bool) private _registered;
    mapping(uint256 jobId => Assignment) private _assignments;

    constructor(
        IJobMarket market_,
        IStaking staking_,
        ISlashRecord game_,
        uint256 verifierStake_,
        uint16 slashRewardBps_,
        uint16 sampleBps_
    ) {
        market = market_;
        staking = staking_;
        game = game_;
        verifierStake = verifierStake_;
        slashRewardBps = slashRewardBps_;
        sampleBps = sampleBps_;
    }

    /// @inheritdoc IVerifierPool
    function register() external {
        if (_registered[msg.sender]) revert PoolAlreadyRegistered(msg.sender);
        if (_verifiers.length >= MAX_VERIFIERS) revert PoolFull(MAX_VERIFIERS);
        _registered[msg.sender] = true;
        _verifiers.push(msg.sender);
        emit Registered(msg.sender, verifierStake);
        staking.lock(msg.sender, verifierStake);
    }

    /// @inheritdoc IVerifierPool
    function deregister() external {
        if (!_registered[msg.sender]) revert PoolNotRegistered(msg.sender);
        if (pending[msg.sender] != 0) revert PoolHasAssignments(msg.sender, pending[msg.sender]);
        _remove(msg.sender);
        uint256 locked = staking.lockedStake(msg.sender);
        staking.unlock(msg.sender, locked < verifierStake ? locked : verifierStake);
    }

    /// @dev Take a verifier out of the draw (at most MAX_VERIFIERS entries to search).
    function _remove(address v) private {
        _registered[v] = false;
        uint256 n = _verifiers.length;
        for (uint256 i = 0; i < n; ++i) {
            if (_verifiers[i] == v) {
                _verifiers[i] = _verifiers[n - 1];
                _verifiers.pop();
                break;
            }
        }
        emit Deregistered(v);
    }

    /// @inheritdoc IVerifierPool
    function fund(uint256 jobId) external payable {
        Assignment storage a = _assignments[jobId];
        if (msg.value == 0 || msg.value > type(uint96).max || a.funder != address(0)) revert PoolBadFunding(jobId);
        if (jobId == 0 || jobId > market.jobCount()) revert PoolBadFunding(jobId);
        (a.funder, a.fee) = (msg.sender, uint96(msg.value));
        emit Funded(jobId, msg.sender, msg.value);
    }

    /// @inheritdoc IVerifierPool
    function requestDraw(uint256 jobId) external {
        Assignment storage a = _assignments[jobId];
        if (a.funder == address(0)) revert PoolBadFunding(jobId);
        if (a.verifier != address(0)) revert PoolAlreadyDrawn(jobId, a.verifier);
        IJobMarket.JobState s = market.state(jobId);
        if (s != IJobMarket.JobState.Challenge && s != IJobMarket.JobState.Disputed) revert PoolWrongState(jobId, uint8(s));
        // a request whose block hash is out of reach (256 blocks) may be renewed
        if (a.requestBlock != 0 && block.number <= uint256(a.requestBlock) + 256) {
            revert PoolDrawNotReady(jobId, a.requestBlock);
        }
        a.requestBlock = uint40(block.number + 1);
        emit DrawRequested(jobId, block.number + 1);
    }

    /// @inheritdoc IVerifierPool
    function draw(uint256 jobId) external {
        Assignment storage a = _assignments[jobId];
        if (a.verifier != address(0)) revert PoolAlreadyDrawn(jobId, a.verifier);
        bytes32 h = a.requestBlock == 0 ? bytes32(0) : blockhash(a.requestBlock);
        if (h == bytes32(0)) revert PoolDrawNotReady(jobId, a.requestBlock);
        address solver = market.job(jobId).winner;
        uint256 n = _verifiers.length;
        bytes32 seed = keccak256(abi.encode(h, jobId));
        uint256 start = uint256(seed) % (n == 0 ? 1 : n);
        address chosen;
        for (uint256 k = 0; k < n && k < 2; ++k) {
            address v = _verifiers[(start + k) % n];
            if (v != solver) {
                chosen = v;
                break;
            }
        }
        if (chosen == address(0)) revert PoolNoVerifier(jobId);
        (a.verifier, a.seed) = (chosen, seed);
        pending[chosen] += 1;
        emit Drawn(jobId, chosen, seed);
    }

    /// @inheritdoc IVerifierPool
    function approve(uint256 jobId, IOneStep.SpecCore calldata core, Opening[] calldata openings) external {
        Assignment storage a = _assignments[jobId];
        if (a.verifier != msg.sender || a.approved) revert PoolNotDrawn(jobId, msg.sender);
        IJobMarket.JobState s = market.state(jobId);
        if (s != IJobMarket.JobState.Challenge && s != IJobMarket.JobState.Disputed) revert PoolWrongState(jobId, uint8(s));
        IJobMarket.JobInfo memory j = market.job(jobId);
        if (keccak256(abi.encode(core)) != j.specHash) revert PoolBadSpecCore(jobId);
        (uint256[] memory ws, uint256[] memory js) = _samples(a.seed, j.numWindows, core.checkpointInterval);
        if (openings.length != ws.length) revert PoolBadOpening(jobId, openings.length);
        for (uint256 i = 0; i < ws.length; ++i) {
            if (!_opens(openings[i], ws[i], js[i], j, core.checkpointInterval)) revert PoolBadOpening(jobId, i);
        }
        a.approved = true;
        emit Approved(jobId, msg.sender);
    }

    /// @inheritdoc IVerifierPool
    function samples(uint256 jobId, uint256 windows, uint256 interval)
        external
        view
        returns (uint256[] memory w, uint256[] memory j)
    {
        return _samples(_assignments[jobId].seed, windows, interval);
    }

    /// @dev Sample i: window keccak(seed, i, 0) mod windows, interior point keccak(seed, i, 1) mod points, where a
    /// window of `interval` steps has interval / max(1, interval / 16) interior points.
    function _samples(bytes32 seed, uint256 windows, uint256 interval)
        private
        view
        returns (uint256[] memory w, uint256[] memory j)
    {
        uint256 k = (windows * sampleBps + 9_999) / BPS;
        if (k == 0) k = 1;
        if (k > MAX_SAMPLES) k = MAX_SAMPLES;
        w = new uint256[](k);
        j = new uint256[](k);
        for (uint256 i = 0; i < k; ++i) {
            w[i] = uint256(keccak256(abi.encode(seed, i, 0))) % windows;
            j[i] = uint256(keccak256(abi.encode(seed, i, 1))) % _points(interval);
        }
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

    /// @dev Interior points of a window (trainyard.runtime.commit.interior_count).
    function _points(uint256 interval) private pure returns (uint256) {
        uint256 stride = interval / 16;
        return interval / (stride == 0 ? 1 : stride);
    }

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
        a.settled = true;
        address v = a.verifier;
        if (v != address(0)) pending[v] -= 1;
        uint256 paid = finalized && a.approved ? a.fee : 0;
        credits[paid != 0 ? v : a.funder] += a.fee;
        uint256 cut = 0;
        if (slashed && a.approved) {
            uint256 locked = staking.lockedStake(v);
            cut = locked < verifierStake ? locked : verifierStake;
        }
        emit Settled(jobId, v, paid, cut);
        if (cut != 0) {
            if (_registered[v]) _remove(v); // a verifier that approved a wrong result leaves the pool
            address winner = game.slashedBy(jobId);
            uint256 reward = winner == address(0) ? 0 : (cut * slashRewardBps) / BPS;
            staking.slash(v, cut, winner == address(0) ? a.funder : winner, reward);
        }
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

    /// @inheritdoc IVerifierPool
    function assignment(uint256 jobId) external view returns (Assignment memory) {
        return _assignments[jobId];
    }

    /// @inheritdoc IVerifierPool
    function verifiers() external view returns (address[] memory) {
        return _verifiers;
    }
}
