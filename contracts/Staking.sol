// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IStaking} from "./interfaces/IStaking.sol";

/// @title Staking
/// @notice See {IStaking}.
contract Staking is IStaking, Ownable {
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
    /// @inheritdoc IStaking
    uint256 public totalBurned;
    /// @inheritdoc IStaking
    mapping(address account => uint256) public credits;
    /// @notice Contracts allowed to lock, unlock and slash.
    mapping(address who => bool) public authorized;

    mapping(address account => Stake) private _stakes;
    mapping(address account => Unbonding) private _unbonding;

    modifier onlyAuthorized() {
        if (!authorized[msg.sender]) revert StakingUnauthorized(msg.sender);
        _;
    }

    constructor(uint64 unbondingDelay_) Ownable(msg.sender) {
        unbondingDelay = unbondingDelay_;
    }

    /// @inheritdoc IStaking
    function setAuthorized(address who, bool ok) external onlyOwner {
        authorized[who] = ok;
        emit AuthorizationSet(who, ok);
    }

    /// @inheritdoc IStaking
    function deposit() external payable {
        if (msg.value == 0) revert StakingZeroAmount();
        Stake storage s = _stakes[msg.sender];
        uint256 free = uint256(s.free) + msg.value;
        if (free > type(uint128).max) revert StakingAmountTooLarge(free);
        s.free = uint128(free);
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
        if (u.amount == 0 || block.timestamp < u.releaseAt) {
            revert StakingNotWithdrawable(msg.sender, u.amount, u.releaseAt, uint64(block.timestamp));
        }
        delete _unbonding[msg.sender];
        emit Withdrawn(msg.sender, u.amount);
        _send(msg.sender, u.amount);
    }

    /// @inheritdoc IStaking
    function lock(address account, uint256 amount) external onlyAuthorized {
        Stake storage s = _stakes[account];
        if (s.free < amount) revert StakingInsufficientFreeStake(account, s.free, amount);
        // amount <= s.free: the sum free + locked is unchanged and fits in uint128 since deposit checked it
        unchecked {
            s.free -= uint128(amount);
            s.locked += uint128(amount);
        }
        emit StakeLocked(account, amount);
    }

    /// @inheritdoc IStaking
    function unlock(address account, uint256 amount) external onlyAuthorized {
        Stake storage s = _stakes[account];
        if (s.locked < amount) revert StakingInsufficientLockedStake(account, s.locked, amount);
        // amount <= s.locked: the sum free + locked is unchanged and fits in uint128
        unchecked {
            s.locked -= uint128(amount);
            s.free += uint128(amount);
        }
        emit StakeUnlocked(account, amount);
    }

    /// @inheritdoc IStaking
    function slash(address account, uint256 amount, address beneficiary, uint256 reward) external onlyAuthorized {
        if (reward > amount) revert StakingRewardExceedsSlash(amount, reward);
        Stake storage s = _stakes[account];
        if (s.locked < amount) revert StakingInsufficientLockedStake(account, s.locked, amount);
        // amount <= s.locked < 2^128
        unchecked {
            s.locked -= uint128(amount);
        }
        credits[beneficiary] += reward;
        totalBurned += amount - reward;
        emit StakeSlashed(account, amount, beneficiary, reward);
    }

    /// @inheritdoc IStaking
    function claimCredit() external {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert StakingNoCredit(msg.sender);
        credits[msg.sender] = 0;
        emit CreditClaimed(msg.sender, amount);
        _send(msg.sender, amount);
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
    function unbonding(address account) external view returns (uint256 amount, uint64 releaseAt) {
        Unbonding memory u = _unbonding[account];
        return (u.amount, u.releaseAt);
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert StakingTransferFailed(to, amount);
    }
}
