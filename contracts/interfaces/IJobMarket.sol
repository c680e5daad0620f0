// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOneStep} from "./IOneStep.sol";

/// @title Trainyard job market
/// @notice Jobs are posted with their maximum price in escrow; solvers bid in a sealed-bid second-price auction
/// (commit, then reveal) with stake locked per bid; the lowest valid price wins and is paid the second-lowest
/// (its own price when it is the only valid bid). There is no cap on bids: settlement names the winner without a
/// loop, and every other bid releases its own stake afterwards (`releaseBid`): a bid never revealed forfeits its
/// whole stake (burned), one revealed at a void price pays the reveal penalty. The winner commits the Merkle root of its checkpoint trace window
/// by window, then the model; after a challenge period with no open dispute anyone finalizes. Every deadline has a
/// path anyone can trigger. Payments and refunds are credits their owners claim.
interface IJobMarket {
    /// @notice The phase of a job, derived from stored timestamps, the clock and the outcome.
    enum JobState {
        None,
        Bidding,
        Revealing,
        AwaitingSettlement,
        Training,
        Challenge,
        Disputed,
        Finalizable,
        Finalized,
        Cancelled,
        Refunded,
        Slashed
    }

    /// @notice How a job ended (stored); `Open` while it runs.
    enum Outcome {
        Open,
        Cancelled,
        Refunded,
        Finalized,
        Slashed
    }

    /// @notice What a submitter sets per job besides the escrow (`msg.value`, the maximum price).
    struct JobParams {
        uint256 stakePerBid;
        uint32 numWindows;
        uint32 bidPeriod;
        uint32 revealPeriod;
        uint32 trainPeriod;
        uint32 challengePeriod;
    }

    /// @notice A job as stored, in four slots. Prices and stakes are uint80 (at most about 1.2 million ETH),
    /// timestamps uint40, window counts uint24. The winner is not stored: it is the bid at `Auction.bestIndex` once
    /// the auction is settled with a valid bid. `resultOffset` is resultAt - revealDeadline + 1 (0: no result yet).
    struct Job {
        // slot 0
        address submitter;
        uint80 maxPrice;
        // slot 1
        uint40 bidDeadline;
        uint40 revealDeadline;
        uint40 trainDeadline;
        uint32 challengePeriod;
        uint32 resultOffset;
        uint24 numWindows;
        uint24 leafCount;
        Outcome outcome;
        bool settled;
        // slot 2
        uint80 stakePerBid;
        uint80 bestPrice;
        uint80 secondPrice;
        // slot 3 (the trace roots, by leaf count, and the open-dispute count are kept beside the job)
        bytes32 specHash;
    }

    /// @notice A job's bid count and the index of its best valid bid so far, in a fifth slot: 32 bits each, so the
    /// number of bids is bounded only by what committing costs (2^32 commits would take over 2*10^14 gas).
    struct Auction {
        uint32 bidCount;
        uint32 bestIndex;
    }

    /// @notice A job as `job()` shows it, with the derived fields spelled out. `leader` is the best valid revealed
    /// bid so far (the winner-to-be once the reveal period is over); `winner` is set once the auction is settled.
    struct JobInfo {
        address submitter;
        address winner;
        address leader;
        uint256 maxPrice;
        uint256 price;
        uint256 stakePerBid;
        uint256 bidCount;
        uint256 numWindows;
        uint256 leafCount;
        uint256 bidDeadline;
        uint256 revealDeadline;
        uint256 trainDeadline;
        uint256 challengePeriod;
        uint256 resultAt;
        uint256 openDisputes;
        Outcome outcome;
        bool settled;
        bytes32 specHash;
        bytes32 traceRoot;
    }

    /// @notice A sealed bid (`commitment`), once revealed its price (`valid`: above 0 and at most the maximum), and
    /// whether its stake has been released.
    struct Bid {
        address bidder;
        uint80 price;
        bool revealed;
        bool valid;
        bool released;
        bytes32 commitment;
    }

    error JobMarketUnknownJob(uint256 jobId);
    error JobMarketInvalidState(uint256 jobId, JobState state);
    error JobMarketInvalidParams(string reason);
    error JobMarketNotSubmitter(uint256 jobId, address caller);
    error JobMarketNotWinner(uint256 jobId, address caller);
    error JobMarketHasBids(uint256 jobId, uint256 bidCount);
    error JobMarketSelfBid(uint256 jobId);
    /// @notice The winning bid's stake stays locked until the job ends (finalize or slash).
    error JobMarketWinningBid(uint256 jobId, uint256 index);
    error JobMarketBidAlreadyReleased(uint256 jobId, uint256 index);
    /// @notice Only the deployer names the dispute game.
    error JobMarketNotDeployer(address caller);
    error JobMarketNoBid(uint256 jobId, uint256 index);
    error JobMarketNotBidder(uint256 jobId, uint256 index, address caller);
    error JobMarketAlreadyRevealed(uint256 jobId, address bidder);
    error JobMarketCommitmentMismatch(uint256 jobId, address bidder);
    error JobMarketTraceComplete(uint256 jobId, uint256 numWindows);
    error JobMarketTraceIncomplete(uint256 jobId, uint256 leafCount, uint256 numWindows);
    /// @notice The model is not the trace's last checkpoint.
    error JobMarketModelNotInTrace(uint256 jobId, string modelCID);
    error JobMarketDeadlinePassed(uint256 jobId, uint40 deadline);
    error JobMarketDeadlineNotReached(uint256 jobId, uint40 deadline);
    error JobMarketNotDisputeGame(address caller);
    error JobMarketDisputeGameAlreadySet(address game);
    error JobMarketNoOpenDispute(uint256 jobId);
    error JobMarketDisputesClosed(uint256 jobId, uint256 closedAt);
    error JobMarketNoCredit(address account);
    error JobMarketTransferFailed(address to, uint256 amount);

    /// @dev Deadlines are the block's timestamp plus the periods in `params`, cumulated.
    event JobPosted(
        uint256 indexed jobId,
        address indexed submitter,
        bytes32 specHash,
        string specCID,
        uint256 maxPrice,
        JobParams params
    );
    event JobCancelled(uint256 indexed jobId);
    event BidCommitted(uint256 indexed jobId, address indexed bidder, uint256 index);
    event BidRevealed(uint256 indexed jobId, address indexed bidder, uint256 price, bool valid);
    /// @dev `unlocked` went back to the bidder's free stake; `penalty` was slashed: the whole stake of a bid never
    /// revealed (all burned), `revealPenaltyBps` of a void one (its `slashRewardBps` share credited to the submitter
    /// in Staking, the rest burned).
    event BidReleased(
        uint256 indexed jobId, uint256 index, address indexed bidder, uint256 unlocked, uint256 penalty
    );
    event AuctionSettled(uint256 indexed jobId, address indexed winner, uint256 price, uint256 refund);
    /// @dev Leaf `window` of the trace is uint64_be(window) || stateRoot || sha256(checkpointCID) || interiorRoot.
    event TraceCommitted(
        uint256 indexed jobId,
        uint256 window,
        bytes32 stateRoot,
        bytes32 interiorRoot,
        bytes32 traceRoot,
        string checkpointCID
    );
    event ResultSubmitted(uint256 indexed jobId, string modelCID, bytes32 traceRoot);
    event JobFinalized(uint256 indexed jobId, address indexed solver, uint256 payment);
    event TrainingTimedOut(uint256 indexed jobId, address indexed solver, uint256 slashed);
    event DisputeOpened(uint256 indexed jobId, uint256 openDisputes);
    event DisputeResolved(uint256 indexed jobId, bool solverLost, address indexed challenger);
    event DisputeGameSet(address indexed game);
    event CreditClaimed(address indexed account, uint256 amount);

    /// @notice Name the dispute game contract, once (only the deployer; it holds no other power).
    /// @param game The contract that may open and resolve disputes.
    function setDisputeGame(address game) external;

    /// @notice Post a job with `msg.value` (the maximum price) in escrow. The job's spec hash is
    /// keccak256(abi.encode(core)); a core outside what a dispute can settle on chain is refused with
    /// `OneStepUnsupported(what, value, limit)` (IOneStep.checkLimits), so every accepted job is disputable.
    /// Reverts `JobMarketInvalidParams` unless every period is in [MIN_PERIOD, MAX_PERIOD] (10 minutes, 30 days)
    /// and `stakePerBid >= msg.value` (a bid's stake covers any price its reveal could move).
    /// @param core The job's spec core (model widths, batch, checkpoint interval, data and initial roots).
    /// @param specCID Where the spec document can be fetched (only emitted).
    /// @param p Stake per bid, number of checkpoint windows (below 2^24) and the periods.
    /// @return jobId The new job's id (from 1).
    function postJob(IOneStep.SpecCore calldata core, string calldata specCID, JobParams calldata p)
        external
        payable
        returns (uint256 jobId);

    /// @notice Cancel one's own job while bidding and before any bid; the escrow becomes a credit.
    /// @param jobId The job.
    function cancelJob(uint256 jobId) external;

    /// @notice Send a sealed bid, locking the job's stake per bid from the caller's free stake. Each bid locks
    /// stake of its own; there is no cap on bids.
    /// @param jobId The job.
    /// @param commitment keccak256(abi.encode(jobId, msg.sender, price, salt)).
    /// @return index The bid's index (commit order), needed to reveal it.
    function commitBid(uint256 jobId, bytes32 commitment) external returns (uint256 index);

    /// @notice Reveal a sealed bid. A price of 0 or above the maximum is void: it never ranks, and its release
    /// pays the reveal penalty. A bid never revealed forfeits its whole stake at release.
    /// @param jobId The job.
    /// @param index The bid's index, from `BidCommitted`.
    /// @param price The bid price in wei.
    /// @param salt The salt of the commitment.
    function revealBid(uint256 jobId, uint256 index, uint256 price, bytes32 salt) external;

    /// @notice After the reveal period, anyone settles: the winner is named and the escrow above its price is
    /// refunded (all of it without a valid bid: the job is Refunded). No bid is touched; each is released by
    /// `releaseBid`. Later calls (commitTrace, submitResult, timeoutTraining, releaseBid) settle lazily too.
    /// @param jobId The job.
    function settleAuction(uint256 jobId) external;

    /// @notice Once the auction is settled (settling it on the way), anyone releases a bid that did not win, once:
    /// its stake returns to its bidder's free stake. A bid never revealed forfeits all of it, burned: what a
    /// bidder could move by revealing selectively (the second price, at most maxPrice <= stakePerBid) is worth less.
    /// A bid revealed at a void price (0 or above the maximum) loses `revealPenaltyBps` of it, of which the
    /// submitter is credited `slashRewardBps` in Staking and the rest is burned. The winning bid cannot be released: its stake stays
    /// locked until the job is finalized or slashed. Also for a Refunded job (every bid then).
    /// @param jobId The job.
    /// @param index The bid's index.
    function releaseBid(uint256 jobId, uint256 index) external;

    /// @notice The winner appends the next window's leaf to its checkpoint trace (also while a dispute is open,
    /// until the result is submitted): leaf w = uint64_be(w) || stateRoot || sha256(checkpointCID) || interiorRoot.
    /// The market keeps the RFC 9162 frontier of the leaves and stores the trace root, so every leaf is public (in
    /// the events) and earlier leaves never change.
    /// @param jobId The job.
    /// @param stateRoot The state root after the window's last step.
    /// @param interiorRoot Merkle root of the digests of the states after each step of the window (what a
    /// verifier's approval opens, docs/disputes.md).
    /// @param checkpointCID Where that checkpoint can be fetched.
    function commitTrace(uint256 jobId, bytes32 stateRoot, bytes32 interiorRoot, string calldata checkpointCID)
        external;

    /// @notice The winner submits the model once the trace is complete, before the training deadline; the
    /// challenge period starts.
    /// @param jobId The job.
    /// @param modelCID Where the model can be fetched (only emitted).
    function submitResult(uint256 jobId, string calldata modelCID) external;

    /// @notice After the challenge period with no open dispute, anyone finalizes: the price becomes the solver's
    /// credit and its stake is unlocked.
    /// @param jobId The job.
    function finalize(uint256 jobId) external;

    /// @notice After the training deadline without a result, anyone slashes the winner and refunds the submitter;
    /// the slash reward goes to the submitter. Open disputes do not stop it: a late solver cannot route its own
    /// slash to a sock by opening a game against itself first.
    /// @param jobId The job.
    function timeoutTraining(uint256 jobId) external;

    /// @notice The dispute game opens a dispute: the job cannot finalize while one is open. There is no cap on open
    /// disputes; a new one is accepted while the job runs, after its first trace leaf, until the training deadline
    /// (no result yet) or until the challenge period ends (result submitted), never later.
    /// @param jobId The job.
    function openDispute(uint256 jobId) external;

    /// @notice The dispute game closes a dispute. If the solver lost and the job is still open, the job is slashed:
    /// the submitter's escrowed price is refunded and the solver's stake slashed, `slashRewardBps` of it credited
    /// (in Staking) to `beneficiary`, the rest burned; but a loss on time (not `byProof`) before the job has a
    /// result credits that reward to the submitter, as `timeoutTraining` would. A job already decided is left as it
    /// is.
    /// @param jobId The job.
    /// @param solverLost Whether the solver lost.
    /// @param byProof Whether the solver lost by the one-step proof (not on time).
    /// @param beneficiary Who receives the slash reward.
    /// @return reward The reward credited to `beneficiary` (0 when this call did not slash, or paid the submitter).
    function resolveDispute(uint256 jobId, bool solverLost, bool byProof, address beneficiary)
        external
        returns (uint256 reward);

    /// @notice Send the caller its credits (payments and refunds).
    function claimCredit() external;

    /// @notice The phase of a job now.
    /// @param jobId The job.
    /// @return The state.
    function state(uint256 jobId) external view returns (JobState);

    /// @notice A job, with its winner, price and result time derived.
    /// @param jobId The job.
    /// @return The job.
    function job(uint256 jobId) external view returns (JobInfo memory);

    /// @notice A bid of a job by commit order.
    /// @param jobId The job.
    /// @param index 0-based commit index.
    /// @return The bid.
    function bid(uint256 jobId, uint256 index) external view returns (Bid memory);

    /// @notice The job's trace root after its first `leafCount` leaves (zero if it never had that many). Every root
    /// the job has had stays readable, so proofs made against an older root remain checkable.
    /// @param jobId The job.
    /// @param leafCount A leaf count, 1 to the job's current leaf count.
    /// @return The RFC 9162 root of those leaves.
    function traceRootAt(uint256 jobId, uint256 leafCount) external view returns (bytes32);

    /// @notice Number of jobs posted; ids run from 1 to this.
    /// @return The count.
    function jobCount() external view returns (uint256);

    /// @notice Credits of `account` awaiting `claimCredit`.
    /// @param account The owner.
    /// @return Wei claimable.
    function credits(address account) external view returns (uint256);
}
