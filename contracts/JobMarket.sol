// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IOneStep} from "./interfaces/IOneStep.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {TrainyardMerkle} from "./libraries/TrainyardMerkle.sol";

/// @title JobMarket
/// @notice See {IJobMarket}.
contract JobMarket is IJobMarket {
    uint256 private constant BPS = 10_000;
    uint8 private constant REVEALED = 1;
    uint8 private constant VALID = 2;
    uint8 private constant RELEASED = 4;
    /// @notice Shortest period a job may set (bidding, revealing, training, challenge): a party needs time to act.
    uint32 public constant MIN_PERIOD = 10 minutes;
    /// @notice Longest period a job may set: nobody's stake or payment is held longer than 4 of them by one job.
    uint32 public constant MAX_PERIOD = 30 days;

    /// @dev A bid as stored: the flags are REVEALED | VALID | RELEASED, so bidder, price and flags share a slot.
    struct StoredBid {
        address bidder;
        uint80 price;
        uint8 flags;
        bytes32 commitment;
    }

    /// @notice Where stake is held.
    IStaking public immutable staking;
    /// @notice The one-step semantics whose limits every posted job must meet.
    IOneStep public immutable oneStep;
    /// @notice Share of the stake per bid taken from a bid that is never revealed.
    uint16 public immutable revealPenaltyBps;
    /// @notice Share of a slashed stake credited to the wronged party; the rest is burned.
    uint16 public immutable slashRewardBps;
    /// @notice The contract allowed to open and resolve disputes (named once by the deployer).
    address public disputeGame;
    /// @dev Who may name the dispute game, once; it has no other power.
    address private immutable _deployer;
    /// @inheritdoc IJobMarket
    uint256 public jobCount;
    /// @inheritdoc IJobMarket
    mapping(address account => uint256) public credits;

    mapping(uint256 jobId => Job) private _jobs;
    mapping(uint256 jobId => mapping(uint256 index => StoredBid)) private _bids;
    /// @dev Roots of the perfect subtrees of each job's trace, one per set bit of its leaf count (below 2^24).
    // slither-disable-next-line uninitialized-state (written through the storage pointer in _append)
    mapping(uint256 jobId => bytes32[24]) private _frontier;
    /// @dev sha256 of the newest leaf's checkpoint CID: the result must be that checkpoint.
    mapping(uint256 jobId => bytes32) private _lastCheckpoint;
    /// @dev Every trace root a job has had, by leaf count: a proof made against an older root stays valid, so a
    /// solver's next commit cannot void a challenge that was sent before it.
    mapping(uint256 jobId => mapping(uint256 leafCount => bytes32)) private _roots;
    /// @dev Bid count and leader of each job's auction: 32-bit, beside the packed Job (whose slots are full).
    mapping(uint256 jobId => Auction) private _auctions;
    /// @dev Games open on a job. Not in the packed Job: there is no cap on games, so the count needs a full word.
    mapping(uint256 jobId => uint256) private _openDisputes;

    modifier onlyDisputeGame() {
        if (msg.sender != disputeGame) revert JobMarketNotDisputeGame(msg.sender);
        _;
    }

    constructor(IStaking staking_, IOneStep oneStep_, uint16 revealPenaltyBps_, uint16 slashRewardBps_) {
        if (revealPenaltyBps_ > BPS || slashRewardBps_ > BPS) revert JobMarketInvalidParams("bps above 10000");
        staking = staking_;
        oneStep = oneStep_;
        _deployer = msg.sender;
        revealPenaltyBps = revealPenaltyBps_;
        slashRewardBps = slashRewardBps_;
    }

    /// @inheritdoc IJobMarket
    function setDisputeGame(address game) external {
        if (msg.sender != _deployer) revert JobMarketNotDeployer(msg.sender);
        if (disputeGame != address(0)) revert JobMarketDisputeGameAlreadySet(disputeGame);
        if (game == address(0)) revert JobMarketInvalidParams("dispute game");
        disputeGame = game;
        emit DisputeGameSet(game);
    }

    // ------------------------------------------------------------------------------------------------ submitter

    /// @inheritdoc IJobMarket
    function postJob(IOneStep.SpecCore calldata core, string calldata specCID, JobParams calldata p)
        external
        payable
        returns (uint256 jobId)
    {
        // a job no dispute could settle is refused here, never truncated later: reverts OneStepUnsupported
        oneStep.checkLimits(core);
        bytes32 specHash = keccak256(abi.encode(core));
        if (msg.value == 0 || msg.value > type(uint80).max) revert JobMarketInvalidParams("escrow");
        if (p.stakePerBid == 0 || p.stakePerBid > type(uint80).max) revert JobMarketInvalidParams("stakePerBid");
        if (p.numWindows == 0 || p.numWindows > type(uint24).max) revert JobMarketInvalidParams("numWindows");
        // a bid binds its stake to the price it could move: an unrevealed bid forfeits it (see releaseBid)
        if (p.stakePerBid < msg.value) revert JobMarketInvalidParams("stakePerBid below maxPrice");
        _checkPeriod(p.bidPeriod);
        _checkPeriod(p.revealPeriod);
        _checkPeriod(p.trainPeriod);
        _checkPeriod(p.challengePeriod);
        jobId = ++jobCount;
        // timestamps fit in uint40 until the year 36812; the periods are uint32
        uint40 bidDeadline = uint40(block.timestamp) + p.bidPeriod;
        uint40 revealDeadline = bidDeadline + p.revealPeriod;
        Job storage j = _jobs[jobId];
        j.submitter = msg.sender;
        j.maxPrice = uint80(msg.value);
        j.bidDeadline = bidDeadline;
        j.revealDeadline = revealDeadline;
        j.trainDeadline = revealDeadline + p.trainPeriod;
        j.challengePeriod = p.challengePeriod;
        j.numWindows = uint24(p.numWindows);
        j.stakePerBid = uint80(p.stakePerBid);
        j.specHash = specHash;
        emit JobPosted(jobId, msg.sender, specHash, specCID, msg.value, p);
    }

    /// @dev Every period in [MIN_PERIOD, MAX_PERIOD]: none so short that an honest party cannot act in it (a
    /// one-second training period would slash every winner), none so long that it freezes stake for years.
    function _checkPeriod(uint32 period) private pure {
        if (period < MIN_PERIOD || period > MAX_PERIOD) revert JobMarketInvalidParams("period");
    }

    /// @inheritdoc IJobMarket
    function cancelJob(uint256 jobId) external {
        Job storage j = _expectState(jobId, JobState.Bidding);
        if (msg.sender != j.submitter) revert JobMarketNotSubmitter(jobId, msg.sender);
        if (_auctions[jobId].bidCount != 0) revert JobMarketHasBids(jobId, _auctions[jobId].bidCount);
        j.outcome = Outcome.Cancelled;
        credits[j.submitter] += j.maxPrice;
        emit JobCancelled(jobId);
    }

    // ------------------------------------------------------------------------------------------------ auction

    /// @inheritdoc IJobMarket
    function commitBid(uint256 jobId, bytes32 commitment) external returns (uint256 index) {
        Job storage j = _expectState(jobId, JobState.Bidding);
        if (msg.sender == j.submitter) revert JobMarketSelfBid(jobId);
        Auction storage a = _auctions[jobId];
        // checked: 2^32 commits at over 50,000 gas each (2*10^14 gas) is no cap anyone can reach
        index = a.bidCount++;
        _bids[jobId][index] = StoredBid({bidder: msg.sender, price: 0, flags: 0, commitment: commitment});
        emit BidCommitted(jobId, msg.sender, index);
        staking.lock(msg.sender, j.stakePerBid);
    }

    /// @inheritdoc IJobMarket
    function revealBid(uint256 jobId, uint256 index, uint256 price, bytes32 salt) external {
        Job storage j = _expectState(jobId, JobState.Revealing);
        StoredBid storage b = _bids[jobId][index];
        if (b.bidder != msg.sender) revert JobMarketNotBidder(jobId, index, msg.sender);
        if (b.flags & REVEALED != 0) revert JobMarketAlreadyRevealed(jobId, msg.sender);
        if (keccak256(abi.encode(jobId, msg.sender, price, salt)) != b.commitment) {
            revert JobMarketCommitmentMismatch(jobId, msg.sender);
        }
        bool valid = price != 0 && price <= j.maxPrice;
        b.commitment = bytes32(0);
        if (valid) {
            b.flags = REVEALED | VALID;
            b.price = uint80(price); // price <= maxPrice < 2^80
            _rank(j, jobId, index, uint80(price));
        } else {
            b.flags = REVEALED;
        }
        emit BidRevealed(jobId, msg.sender, price, valid);
    }

    /// @dev Keep the best (lowest price, then earliest commit) and the second-best price. A price of 0 in
    /// `bestPrice` means no valid bid yet; in `secondPrice`, no second valid bid.
    function _rank(Job storage j, uint256 jobId, uint256 index, uint80 price) private {
        uint80 best = j.bestPrice;
        if (best == 0 || price < best || (price == best && index < _auctions[jobId].bestIndex)) {
            j.secondPrice = best;
            j.bestPrice = price;
            _auctions[jobId].bestIndex = uint32(index); // index < bidCount < 2^32
        } else if (j.secondPrice == 0 || price < j.secondPrice) {
            j.secondPrice = price;
        }
    }

    /// @inheritdoc IJobMarket
    function settleAuction(uint256 jobId) external {
        Job storage j = _expectState(jobId, JobState.AwaitingSettlement);
        _settle(jobId, j);
    }

    /// @dev Name the winner and refund the escrow above its price; no loop: every other bid releases itself.
    function _settle(uint256 jobId, Job storage j) private {
        j.settled = true;
        bool hasWinner = j.bestPrice != 0;
        address winner = hasWinner ? _bids[jobId][_auctions[jobId].bestIndex].bidder : address(0);
        uint256 price = _price(j);
        uint256 refund = j.maxPrice - price; // price <= maxPrice (0 without a winner: the whole escrow)
        if (!hasWinner) j.outcome = Outcome.Refunded;
        credits[j.submitter] += refund;
        emit AuctionSettled(jobId, winner, price, refund);
    }

    /// @inheritdoc IJobMarket
    function releaseBid(uint256 jobId, uint256 index) external {
        Job storage j = _job(jobId);
        if (!j.settled) {
            // the phase is derived only when needed: a settled job (Refunded included) is past the auction
            JobState s = state(jobId);
            if (s != JobState.AwaitingSettlement) revert JobMarketInvalidState(jobId, s);
            _settle(jobId, j);
        }
        Auction memory a = _auctions[jobId];
        if (index >= a.bidCount) revert JobMarketNoBid(jobId, index);
        if (j.bestPrice != 0 && index == a.bestIndex) revert JobMarketWinningBid(jobId, index);
        StoredBid storage b = _bids[jobId][index];
        uint8 flags = b.flags;
        if (flags & RELEASED != 0) revert JobMarketBidAlreadyReleased(jobId, index);
        b.flags = flags | RELEASED;
        address bidder = b.bidder;
        uint256 stake = j.stakePerBid;
        // A sealed bid left unrevealed forfeits its whole stake, burned: reveals are public as they are mined, so a
        // bidder holding several sealed bids could otherwise reveal only the one that moves the second price where
        // it wants (a submitter's sock cutting the winner's price, a solver's raising it). What that can move is at
        // most maxPrice <= stakePerBid, so every bid kept back costs more than any price it could buy; nothing of it
        // goes to the submitter or the winner, who could be the bidder's own accounts. A bid revealed at a void
        // price (0 or above the maximum) moved nothing and pays revealPenaltyBps for the place it took.
        uint256 penalty = flags & REVEALED == 0 ? stake : flags & VALID == 0 ? (stake * revealPenaltyBps) / BPS : 0;
        uint256 reward = flags & REVEALED == 0 ? 0 : (penalty * slashRewardBps) / BPS;
        emit BidReleased(jobId, index, bidder, stake - penalty, penalty);
        if (penalty != 0) staking.slash(bidder, penalty, j.submitter, reward);
        if (stake != penalty) staking.unlock(bidder, stake - penalty);
    }

    // ------------------------------------------------------------------------------------------------ solver

    /// @inheritdoc IJobMarket
    function commitTrace(uint256 jobId, bytes32 stateRoot, bytes32 interiorRoot, string calldata checkpointCID)
        external
    {
        Job storage j = _trainingJob(jobId);
        if (msg.sender != _winner(jobId, j)) revert JobMarketNotWinner(jobId, msg.sender);
        if (block.timestamp > j.trainDeadline) revert JobMarketDeadlinePassed(jobId, j.trainDeadline);
        uint256 w = j.leafCount;
        if (w >= j.numWindows) revert JobMarketTraceComplete(jobId, j.numWindows);
        bytes32 cidHash = sha256(bytes(checkpointCID));
        bytes32 root = _append(jobId, w, abi.encodePacked(uint64(w), stateRoot, cidHash, interiorRoot));
        _lastCheckpoint[jobId] = cidHash;
        j.leafCount = uint24(w + 1); // <= numWindows < 2^24
        _roots[jobId][w + 1] = root;
        emit TraceCommitted(jobId, w, stateRoot, interiorRoot, root, checkpointCID);
    }

    /// @dev Append leaf `w` to the job's frontier (a binary counter of perfect subtrees) and return the RFC 9162
    /// root of the w + 1 leaves: node(P_a, node(P_b, ...)) over the subtrees of the set bits, largest first.
    function _append(uint256 jobId, uint256 w, bytes memory leaf) private returns (bytes32 root) {
        bytes32[24] storage f = _frontier[jobId];
        bytes32 h = TrainyardMerkle.leafHash(leaf);
        uint256 level = 0;
        for (uint256 n = w; n & 1 == 1; n >>= 1) {
            h = TrainyardMerkle.nodeHash(f[level], h);
            ++level;
        }
        f[level] = h;
        uint256 count = w + 1;
        bool first = true;
        for (uint256 l = 0; count >> l != 0; ++l) {
            if ((count >> l) & 1 == 0) continue;
            root = first ? f[l] : TrainyardMerkle.nodeHash(f[l], root);
            first = false;
        }
    }

    /// @inheritdoc IJobMarket
    function submitResult(uint256 jobId, string calldata modelCID) external {
        Job storage j = _trainingJob(jobId);
        if (msg.sender != _winner(jobId, j)) revert JobMarketNotWinner(jobId, msg.sender);
        if (block.timestamp > j.trainDeadline) revert JobMarketDeadlinePassed(jobId, j.trainDeadline);
        if (j.leafCount != j.numWindows) revert JobMarketTraceIncomplete(jobId, j.leafCount, j.numWindows);
        if (sha256(bytes(modelCID)) != _lastCheckpoint[jobId]) revert JobMarketModelNotInTrace(jobId, modelCID);
        // revealDeadline <= now <= trainDeadline = revealDeadline + a uint32 period: the offset fits in uint32
        j.resultOffset = uint32(block.timestamp - j.revealDeadline + 1);
        emit ResultSubmitted(jobId, modelCID, _roots[jobId][j.leafCount]);
    }

    // ------------------------------------------------------------------------------------------------ anyone

    /// @inheritdoc IJobMarket
    function finalize(uint256 jobId) external {
        Job storage j = _expectState(jobId, JobState.Finalizable);
        j.outcome = Outcome.Finalized;
        address solver = _winner(jobId, j);
        uint256 payment = _price(j);
        credits[solver] += payment;
        emit JobFinalized(jobId, solver, payment);
        staking.unlock(solver, j.stakePerBid);
    }

    /// @inheritdoc IJobMarket
    function timeoutTraining(uint256 jobId) external {
        Job storage j = _trainingJob(jobId);
        if (block.timestamp <= j.trainDeadline) revert JobMarketDeadlineNotReached(jobId, j.trainDeadline);
        j.outcome = Outcome.Slashed;
        address solver = _winner(jobId, j);
        uint256 stake = j.stakePerBid;
        credits[j.submitter] += _price(j);
        emit TrainingTimedOut(jobId, solver, stake);
        staking.slash(solver, stake, j.submitter, (stake * slashRewardBps) / BPS);
    }

    /// @inheritdoc IJobMarket
    function openDispute(uint256 jobId) external onlyDisputeGame {
        Job storage j = _job(jobId);
        JobState s = state(jobId);
        bool running = s == JobState.Training || s == JobState.Challenge || s == JobState.Disputed;
        if (!running || j.leafCount == 0) revert JobMarketInvalidState(jobId, s);
        // no new game once the window for disputes has closed: the training deadline without a result, the end
        // of the challenge period with one. This is what bounds how long games can delay an honest solver.
        uint256 closes = j.resultOffset == 0 ? j.trainDeadline : _resultAt(j) + j.challengePeriod - 1;
        if (block.timestamp > closes) revert JobMarketDisputesClosed(jobId, closes);
        uint256 n = _openDisputes[jobId] + 1;
        _openDisputes[jobId] = n;
        emit DisputeOpened(jobId, n);
    }

    /// @inheritdoc IJobMarket
    function resolveDispute(uint256 jobId, bool solverLost, bool byProof, address beneficiary)
        external
        onlyDisputeGame
        returns (uint256 reward)
    {
        Job storage j = _job(jobId);
        uint256 n = _openDisputes[jobId];
        if (n == 0) revert JobMarketNoOpenDispute(jobId);
        _openDisputes[jobId] = n - 1;
        emit DisputeResolved(jobId, solverLost, beneficiary);
        if (solverLost && j.outcome == Outcome.Open) {
            j.outcome = Outcome.Slashed;
            uint256 stake = j.stakePerBid;
            uint256 r = (stake * slashRewardBps) / BPS;
            // a solver that stops answering before it has a result is a late solver, whoever opened the game: the
            // submitter is compensated as `timeoutTraining` would (otherwise a solver that will be late routes R to
            // its sock by losing a game on time); only a cheat proven by the one-step proof pays the game
            address to = byProof || j.resultOffset != 0 ? beneficiary : j.submitter;
            reward = to == beneficiary ? r : 0;
            credits[j.submitter] += _price(j);
            staking.slash(_winner(jobId, j), stake, to, r);
        }
    }

    /// @inheritdoc IJobMarket
    function claimCredit() external {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert JobMarketNoCredit(msg.sender);
        credits[msg.sender] = 0;
        emit CreditClaimed(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert JobMarketTransferFailed(msg.sender, amount);
    }

    // ------------------------------------------------------------------------------------------------ views

    /// @inheritdoc IJobMarket
    function state(uint256 jobId) public view returns (JobState) {
        Job storage j = _jobs[jobId];
        if (j.submitter == address(0)) return JobState.None;
        Outcome o = j.outcome;
        if (o == Outcome.Finalized) return JobState.Finalized;
        if (o == Outcome.Cancelled) return JobState.Cancelled;
        if (o == Outcome.Refunded) return JobState.Refunded;
        if (o == Outcome.Slashed) return JobState.Slashed;
        if (block.timestamp < j.bidDeadline) return JobState.Bidding;
        if (block.timestamp < j.revealDeadline) return JobState.Revealing;
        if (!j.settled) return JobState.AwaitingSettlement;
        if (_openDisputes[jobId] != 0) return JobState.Disputed;
        if (j.resultOffset == 0) return JobState.Training;
        if (block.timestamp < _resultAt(j) + j.challengePeriod) return JobState.Challenge;
        return JobState.Finalizable;
    }

    /// @inheritdoc IJobMarket
    function job(uint256 jobId) external view returns (JobInfo memory info) {
        Job storage j = _job(jobId);
        info.submitter = j.submitter;
        info.winner = _winner(jobId, j);
        info.leader = j.bestPrice == 0 ? address(0) : _bids[jobId][_auctions[jobId].bestIndex].bidder;
        info.maxPrice = j.maxPrice;
        info.price = j.settled ? _price(j) : 0;
        info.stakePerBid = j.stakePerBid;
        info.bidCount = _auctions[jobId].bidCount;
        info.numWindows = j.numWindows;
        info.leafCount = j.leafCount;
        info.bidDeadline = j.bidDeadline;
        info.revealDeadline = j.revealDeadline;
        info.trainDeadline = j.trainDeadline;
        info.challengePeriod = j.challengePeriod;
        info.resultAt = j.resultOffset == 0 ? 0 : _resultAt(j);
        info.openDisputes = _openDisputes[jobId];
        info.outcome = j.outcome;
        info.settled = j.settled;
        info.specHash = j.specHash;
        info.traceRoot = _roots[jobId][j.leafCount];
    }

    /// @inheritdoc IJobMarket
    function bid(uint256 jobId, uint256 index) external view returns (Bid memory) {
        StoredBid storage b = _bids[jobId][index];
        uint8 f = b.flags;
        return Bid(b.bidder, b.price, f & REVEALED != 0, f & VALID != 0, f & RELEASED != 0, b.commitment);
    }

    /// @inheritdoc IJobMarket
    function traceRootAt(uint256 jobId, uint256 leafCount) external view returns (bytes32) {
        return _roots[jobId][leafCount];
    }

    // ------------------------------------------------------------------------------------------------ internals

    /// @dev The winning bidder once the auction is settled with a valid bid, else address(0).
    function _winner(uint256 jobId, Job storage j) private view returns (address) {
        if (!j.settled || j.bestPrice == 0) return address(0);
        return _bids[jobId][_auctions[jobId].bestIndex].bidder;
    }

    function _resultAt(Job storage j) private view returns (uint256) {
        return uint256(j.revealDeadline) + j.resultOffset - 1;
    }

    /// @dev What the winner is paid: the second-lowest valid price, or its own when it was the only valid bid.
    function _price(Job storage j) private view returns (uint256) {
        uint80 second = j.secondPrice;
        return second != 0 ? second : j.bestPrice;
    }

    function _job(uint256 jobId) private view returns (Job storage j) {
        j = _jobs[jobId];
        if (j.submitter == address(0)) revert JobMarketUnknownJob(jobId);
    }

    function _expectState(uint256 jobId, JobState expected) private view returns (Job storage j) {
        j = _job(jobId);
        JobState s = state(jobId);
        if (s != expected) revert JobMarketInvalidState(jobId, s);
    }

    /// @dev A job whose winner may still commit and submit: training (settled on the way if nobody has yet), or
    /// disputed before any result, so that an open dispute cannot run an honest solver past its deadline.
    function _trainingJob(uint256 jobId) private returns (Job storage j) {
        j = _job(jobId);
        if (state(jobId) == JobState.AwaitingSettlement) _settle(jobId, j);
        JobState s = state(jobId);
        if (s != JobState.Training && !(s == JobState.Disputed && j.resultOffset == 0)) {
            revert JobMarketInvalidState(jobId, s);
        }
    }
}
