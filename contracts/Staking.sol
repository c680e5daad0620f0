// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IStaking} from "./interfaces/IStaking.sol";

/// @title Staking
/// @notice See {IStaking}. No owner: the lockers are wired once by the deployer, and each locker can only unlock or
/// slash what it locked itself.
contract Staking is IStaking {
    struct Stake {
        uint128 free;
        uint128 locked;
    }

    struct Unbonding {
        uint128 amount;
        uint64 releaseAt;
    }

    /// @inheritdoc IStaking
    uint64 public immutable unbondingDelay;
    /// @dev Who may call `wire`, once.
    address private immutable _deployer;
    /// @inheritdoc IStaking
    bool public wired;
    /// @inheritdoc IStaking
    uint256 public totalBurned;
    /// @inheritdoc IStaking
    mapping(address account => uint256) public credits;
    /// @inheritdoc IStaking
    mapping(address who => bool) public isLocker;

    mapping(address account => Stake) private _stakes;
    mapping(address account => Unbonding) private _unbonding;
    /// @dev What each locker holds locked of each account; `_stakes[a].locked` is the sum over lockers.
    mapping(address locker => mapping(address account => uint256)) private _lockedBy;

    modifier onlyLocker() {
        if (!isLocker[msg.sender]) revert StakingUnauthorized(msg.sender);
        _;
    }

    constructor(uint64 unbondingDelay_) {
        unbondingDelay = unbondingDelay_;
        _deployer = msg.sender;
    }

    /// @inheritdoc IStaking
    function wire(address[] calldata lockers) external {
        if (msg.sender != _deployer || wired) revert StakingUnauthorized(msg.sender);
        wired = true;
        // deployer-supplied, called once: the loop is bounded by what the deployer pays for, never by users
        for (uint256 i = 0; i < lockers.length; ++i) {
            isLocker[lockers[i]] = true;
            emit LockerWired(lockers[i]);
        }
    }

    /// @inheritdoc IStaking
    function deposit() external payable {
        if (!wired) revert StakingNotWired();
        if (msg.value == 0) revert StakingZeroAmount();
        Stake storage s = _stakes[msg.sender];
        uint256 total = uint256(s.free) + s.locked + msg.value;
        if (total > type(uint128).max) revert StakingAmountTooLarge(total);
        // free + locked + msg.value < 2^128 (checked above)
        unchecked {
            s.free += uint128(msg.value);
        }
        emit Deposited(msg.sender, msg.value);
    }

    /// @inheritdoc IStaking
    function requestWithdrawal(uint256 amount) external {
        if (amount == 0) revert StakingZeroAmount();
        Stake storage s = _stakes[msg.sender];
        if (s.free < amount) revert StakingInsufficientFreeStake(msg.sender, s.free, amount);
        Unbonding storage u = _unbonding[msg.sender];
        // amount <= s.free < 2^128, and the unbonding plus free stake of one account never exceed the ETH supply
        s.free -= uint128(amount);
        u.amount += uint128(amount);
        uint64 releaseAt = uint64(block.timestamp) + unbondingDelay;
        u.releaseAt = releaseAt;
        emit WithdrawalRequested(msg.sender, u.amount, releaseAt);
    }

    /// @inheritdoc IStaking
    function withdraw() external {
        Unbonding memory u = _unbonding[msg.sender];
        // slither-disable-next-line incorrect-equality (a recorded amount, not a balance)
        if (u.amount == 0 || block.timestamp < u.releaseAt) {
            revert StakingNotWithdrawable(msg.sender, u.amount, u.releaseAt, uint64(block.timestamp));
        }
        delete _unbonding[msg.sender];
        emit Withdrawn(msg.sender, u.amount);
        _sendToCaller(u.amount);
    }

    /// @inheritdoc IStaking
    function lock(address account, uint256 amount) external onlyLocker {
        Stake storage s = _stakes[account];
        if (s.free < amount) revert StakingInsufficientFreeStake(account, s.free, amount);
        // amount <= s.free: free + locked is unchanged and fits in uint128 since deposit checked it; a locker's
        // share of an account's locked stake is at most that account's locked total
        unchecked {
            s.free -= uint128(amount);
            s.locked += uint128(amount);
            _lockedBy[msg.sender][account] += amount;
        }
        emit StakeLocked(msg.sender, account, amount);
    }

    /// @inheritdoc IStaking
    function unlock(address account, uint256 amount) external onlyLocker {
        _take(account, amount);
        Stake storage s = _stakes[account];
        // amount <= what this locker locked <= s.locked: free + locked is unchanged and fits in uint128
        unchecked {
            s.locked -= uint128(amount);
            s.free += uint128(amount);
        }
        emit StakeUnlocked(msg.sender, account, amount);
    }

    /// @inheritdoc IStaking
    function slash(address account, uint256 amount, address beneficiary, uint256 reward) external onlyLocker {
        if (reward > amount) revert StakingRewardExceedsSlash(amount, reward);
        _take(account, amount);
        // amount <= what this locker locked <= s.locked < 2^128
        unchecked {
            _stakes[account].locked -= uint128(amount);
        }
        credits[beneficiary] += reward;
        totalBurned += amount - reward;
        emit StakeSlashed(msg.sender, account, amount, beneficiary, reward);
    }

    /// @inheritdoc IStaking
    function claimCredit() external {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert StakingNoCredit(msg.sender);
        credits[msg.sender] = 0;
        emit CreditClaimed(msg.sender, amount);
        _sendToCaller(amount);
    }

    /// @inheritdoc IStaking
    function freeStake(address account) external view returns (uint256) {
        return _stakes[account].free;
    }

    /// @inheritdoc IStaking
    function lockedStake(address account) external view returns (uint256) {
        return _stakes[account].locked;
    }

    /// @inheritdoc IStaking
    function lockedBy(address locker, address account) external view returns (uint256) {
        return _lockedBy[locker][account];
    }

    /// @inheritdoc IStaking
    function unbonding(address account) external view returns (uint256 amount, uint64 releaseAt) {
        Unbonding memory u = _unbonding[account];
        return (u.amount, u.releaseAt);
    }

    /// @dev Take `amount` off what the caller locked of `account`, or revert with what it did lock.
    function _take(address account, uint256 amount) private {
        uint256 mine = _lockedBy[msg.sender][account];
        if (mine < amount) revert StakingInsufficientLockedStake(msg.sender, account, mine, amount);
        // amount <= mine
        unchecked {
            _lockedBy[msg.sender][account] = mine - amount;
        }
    }

    /// @dev Pay the caller what it is owed (a withdrawal or its credits), after its record was cleared.
    function _sendToCaller(uint256 amount) private {
        // slither-disable-next-line arbitrary-send-eth (the caller, paid what its own record said, cleared first)
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert StakingTransferFailed(msg.sender, amount);
    }
}
