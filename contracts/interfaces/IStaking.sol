// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Trainyard staking
/// @notice Holds every stake in ETH. Free stake can be locked by a locker (a contract wired once at deployment: the
/// job market, the verifier pool) for the duration of a job, unlocked, or slashed; each locker can only unlock or
/// slash what it locked itself, so one locker never reaches stake another holds. Nobody owns this contract: after
/// `wire` no account can add a locker or move another's stake outside these rules. Withdrawals wait an unbonding delay so that stake
/// cannot flee a slash that is on its way. Rewards from slashes are credits their owners claim (pull payments).
interface IStaking {
    /// @notice The caller is not a locker (or not the deployer wiring once).
    error StakingUnauthorized(address caller);
    /// @notice An amount of zero where something must move.
    error StakingZeroAmount();
    /// @notice Not enough free stake for the operation.
    error StakingInsufficientFreeStake(address account, uint256 free, uint256 needed);
    /// @notice `locker` holds only `locked` of `account`'s stake, less than `needed`.
    error StakingInsufficientLockedStake(address locker, address account, uint256 locked, uint256 needed);
    /// @notice A slash reward larger than the slashed amount.
    error StakingRewardExceedsSlash(uint256 amount, uint256 reward);
    /// @notice Nothing is unbonding, or it is still unbonding.
    error StakingNotWithdrawable(address account, uint256 amount, uint64 releaseAt, uint64 now_);
    /// @notice The caller has no credit to claim.
    error StakingNoCredit(address account);
    /// @notice Sending ETH failed.
    error StakingTransferFailed(address to, uint256 amount);
    /// @notice A deposit before the lockers are wired: until then the deployer could still name itself a locker.
    error StakingNotWired();
    /// @notice A stake amount beyond what the packed accounting holds.
    error StakingAmountTooLarge(uint256 amount);

    event Deposited(address indexed account, uint256 amount);
    event WithdrawalRequested(address indexed account, uint256 amount, uint64 releaseAt);
    event Withdrawn(address indexed account, uint256 amount);
    event StakeLocked(address indexed locker, address indexed account, uint256 amount);
    event StakeUnlocked(address indexed locker, address indexed account, uint256 amount);
    event StakeSlashed(
        address indexed locker, address indexed account, uint256 amount, address indexed beneficiary, uint256 reward
    );
    event CreditClaimed(address indexed account, uint256 amount);
    event LockerWired(address indexed locker);

    /// @notice Name the lockers, once and only by the deployer; no locker can ever be added or removed afterwards.
    /// No deposit is accepted before this call, so every depositor can read the lockers first (`isLocker`).
    /// @param lockers The contracts that may lock, unlock and slash (each only what it locked).
    function wire(address[] calldata lockers) external;

    /// @notice Whether `wire` has run.
    /// @return True once wired.
    function wired() external view returns (bool);

    /// @notice Whether `who` is a locker.
    /// @param who A contract.
    /// @return True if wired as a locker.
    function isLocker(address who) external view returns (bool);

    /// @notice Add `msg.value` to the caller's free stake. Refused (`StakingNotWired`) until the lockers are wired.
    function deposit() external payable;

    /// @notice Move `amount` of free stake to unbonding; it can be withdrawn after the unbonding delay. A further
    /// request adds to the pending amount and restarts the delay.
    /// @param amount Wei to unbond.
    function requestWithdrawal(uint256 amount) external;

    /// @notice Send the caller its unbonded stake once the delay has passed.
    function withdraw() external;

    /// @notice Lock `amount` of `account`'s free stake, held by the caller (lockers only).
    /// @param account Whose stake.
    /// @param amount Wei to lock.
    function lock(address account, uint256 amount) external;

    /// @notice Return `amount` of what the caller locked of `account` to its free stake (lockers only; reverts with
    /// `StakingInsufficientLockedStake` and the caller's own locked amount if it holds less).
    /// @param account Whose stake.
    /// @param amount Wei to unlock.
    function unlock(address account, uint256 amount) external;

    /// @notice Take `amount` of what the caller locked of `account`: `reward` becomes a credit of `beneficiary`, the
    /// rest is burned (it stays in this contract forever, counted in `totalBurned`). Lockers only, and never more
    /// than the caller itself locked (`StakingInsufficientLockedStake` with its own amount otherwise).
    /// @param account Whose stake.
    /// @param amount Wei slashed.
    /// @param beneficiary Who is credited the reward.
    /// @param reward Wei of `amount` credited to `beneficiary`.
    function slash(address account, uint256 amount, address beneficiary, uint256 reward) external;

    /// @notice Send the caller its credits (slash rewards).
    function claimCredit() external;

    /// @notice The caller-independent free stake of `account`.
    /// @param account The staker.
    /// @return Wei of free stake.
    function freeStake(address account) external view returns (uint256);

    /// @notice The stake of `account` locked in jobs, by all lockers together.
    /// @param account The staker.
    /// @return Wei of locked stake.
    function lockedStake(address account) external view returns (uint256);

    /// @notice The stake of `account` that `locker` locked (the most it can unlock or slash).
    /// @param locker A locker.
    /// @param account The staker.
    /// @return Wei locked by that locker.
    function lockedBy(address locker, address account) external view returns (uint256);

    /// @notice The stake of `account` waiting to be withdrawn, and when it can be.
    /// @param account The staker.
    /// @return amount Wei unbonding.
    /// @return releaseAt Timestamp from which it can be withdrawn.
    function unbonding(address account) external view returns (uint256 amount, uint64 releaseAt);

    /// @notice Credits of `account` awaiting `claimCredit`.
    /// @param account The owner.
    /// @return Wei claimable.
    function credits(address account) external view returns (uint256);

    /// @notice All stake ever burned by slashes.
    /// @return Wei burned.
    function totalBurned() external view returns (uint256);

    /// @notice Seconds a withdrawal waits.
    /// @return The unbonding delay.
    function unbondingDelay() external view returns (uint64);
}
