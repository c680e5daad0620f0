// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDisputeGame} from "./interfaces/IDisputeGame.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IOneStep} from "./interfaces/IOneStep.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {FixedOps} from "./libraries/FixedOps.sol";
import {TrainyardMerkle} from "./libraries/TrainyardMerkle.sol";

/// @dev The market's public getter of its staking contract (not part of IJobMarket).
interface IMarketStaking {
    function staking() external view returns (IStaking);
}

/// @dev The pool's view of which verifier approved a job's window (not part of IVerifierPool's import here, to keep
/// the two interfaces free of each other).
interface IApprovals {
    function approverOf(uint256 jobId, uint256 window) external view returns (address);
}

/// @title DisputeGame
/// @notice See {IDisputeGame} and docs/disputes.md.
contract DisputeGame is IDisputeGame {
    /// @notice Highest dissection degree (roots per move: degree - 1).
    uint256 public constant MAX_DEGREE = 16;
    uint256 private constant BPS = 10_000;
    uint256 private constant CHUNK = 64;

    /// @notice The market whose jobs are disputed.
    IJobMarket public immutable market;
    /// @notice The one-step semantics.
    IOneStep public immutable oneStep;
    /// @notice Where the market credits a slash reward to this contract (the pot of a job, shared by its games).
    IStaking public immutable staking;
    /// @notice The bond a challenger pays to open a game.
    uint256 public immutable bond;
    /// @notice Seconds each party of a game has for all its moves.
    uint32 public immutable clockBudget;
    /// @notice Share of a losing challenger's bond credited to the solver; the rest is burned.
    uint16 public immutable bondRewardBps;

    /// @notice Games opened so far (ids start at 1).
    uint256 public gameCount;
    /// @notice Bonds burned by losing challengers (they stay in this contract forever).
    uint256 public totalBurned;
    /// @notice Returned bonds and rewards awaiting `claimCredit`.
    mapping(address account => uint256) public credits;
    /// @notice The challenger of the game a job's solver lost first, the one that slashed it (the verifier pool pays it
    /// from an approver's stake).
    mapping(uint256 jobId => address) public slashedBy;
    /// @dev 1 + the window of the game in which the job's solver first lost by the one-step proof (0: never).
    mapping(uint256 jobId => uint256) private _provenWindow;

    /// @notice The verifier pool whose approvals can be challenged (set once by the deployer, see `setVerifierPool`).
    IApprovals public verifierPool;
    /// @inheritdoc IDisputeGame
    mapping(uint256 gameId => bool) public approvalGame;
    /// @inheritdoc IDisputeGame
    mapping(uint256 jobId => bool) public approverLost;
    /// @dev Games against a job's approval not yet ended (they are never closed early: each is the approver's own).
    mapping(uint256 jobId => uint256) private _approvalLive;
    address private immutable _deployer;

    mapping(uint256 gameId => Game) private _games;
    /// @dev Games of a job not yet ended or closed. No cap: games are independent and nothing loops over them.
    mapping(uint256 jobId => uint256) private _liveCount;
    /// @dev The slash reward of a job whose solver lost a game, while it is being shared among the games that were
    /// live then: `share` each, `left` not yet paid (the last game closed takes it all, rounding included).
    mapping(uint256 jobId => Pot) private _pots;

    constructor(IJobMarket market_, IOneStep oneStep_, uint256 bond_, uint32 clockBudget_, uint16 bondRewardBps_) {
        if (bond_ == 0 || bond_ > type(uint96).max || clockBudget_ == 0 || bondRewardBps_ > BPS) {
            revert GameBadBond(bond_, 0);
        }
        market = market_;
        oneStep = oneStep_;
        staking = IMarketStaking(address(market_)).staking();
        bond = bond_;
        clockBudget = clockBudget_;
        bondRewardBps = bondRewardBps_;
        _deployer = msg.sender;
    }

    /// @inheritdoc IDisputeGame
    function setVerifierPool(address pool) external {
        if (msg.sender != _deployer || address(verifierPool) != address(0) || pool == address(0)) {
            revert GameUnauthorized(msg.sender);
        }
        verifierPool = IApprovals(pool);
        emit VerifierPoolSet(pool);
    }

    // ------------------------------------------------------------------------------------------------ opening

    /// @inheritdoc IDisputeGame
    function challenge(
        uint256 jobId,
        IOneStep.SpecCore calldata core,
        uint256 window,
        uint256 leafCount,
        Leaf calldata prevLeaf,
        Leaf calldata leaf,
        uint8 degree
    ) external payable returns (uint256 gameId) {
        IJobMarket.JobInfo memory j = market.job(jobId);
        if (msg.sender == j.winner) revert GameChallengerIsSolver(jobId);
        gameId = _open(jobId, j, j.winner, core, window, leafCount, prevLeaf, leaf, degree);
        ++_liveCount[jobId];
        market.openDispute(jobId);
    }

    /// @inheritdoc IDisputeGame
    function challengeApproval(
        uint256 jobId,
        IOneStep.SpecCore calldata core,
        uint256 window,
        uint256 leafCount,
        Leaf calldata prevLeaf,
        Leaf calldata leaf,
        uint8 degree
    ) external payable returns (uint256 gameId) {
        IJobMarket.JobInfo memory j = market.job(jobId);
        address approver = _approverToChallenge(jobId, window, j);
        gameId = _open(jobId, j, approver, core, window, leafCount, prevLeaf, leaf, degree);
        approvalGame[gameId] = true;
        ++_approvalLive[jobId];
        emit ApprovalChallenged(gameId, jobId, approver);
    }

    /// @dev What every game checks when it opens (the bond, the degree, the spec core and its limits, the two leaves),
    /// then the game itself, `defender` answering.
    function _open(
        uint256 jobId,
        IJobMarket.JobInfo memory j,
        address defender,
        IOneStep.SpecCore calldata core,
        uint256 window,
        uint256 leafCount,
        Leaf calldata prevLeaf,
        Leaf calldata leaf,
        uint8 degree
    ) private returns (uint256 gameId) {
        if (msg.value != bond) revert GameBadBond(msg.value, bond);
        if (degree < 2 || degree > MAX_DEGREE) revert GameBadDegree(degree);
        if (keccak256(abi.encode(core)) != j.specHash) revert GameBadSpecCore(jobId);
        oneStep.checkLimits(core); // a job the contract cannot recompute is refused here, never truncated
        (bytes32 loRoot, bytes32 hiRoot) = _openedRoots(jobId, j.leafCount, core, window, leafCount, prevLeaf, leaf);
        gameId = _newGame(jobId, defender, j.specHash, core, window, degree, loRoot, hiRoot);
    }

    /// @dev The approver whose approval opened `window` of the job, checked challengeable by the caller now.
    function _approverToChallenge(uint256 jobId, uint256 window, IJobMarket.JobInfo memory j)
        private
        view
        returns (address approver)
    {
        if (address(verifierPool) != address(0)) approver = verifierPool.approverOf(jobId, window);
        if (approver == address(0)) revert GameNotApproved(jobId, window);
        if (msg.sender == approver) revert GameChallengerIsDefender(jobId);
        uint256 closes = j.resultAt + j.challengePeriod;
        if (block.timestamp >= closes) revert GameApprovalChallengeClosed(jobId, closes);
    }

    /// @dev The agreed and disputed roots of a new game: leaves window-1 and window opened against the trace root the
    /// job had at `leafCount` leaves (the proofs may predate the solver's latest commit, which cannot void them).
    function _openedRoots(
        uint256 jobId,
        uint256 current,
        IOneStep.SpecCore calldata core,
        uint256 window,
        uint256 leafCount,
        Leaf calldata prevLeaf,
        Leaf calldata leaf
    ) private view returns (bytes32 loRoot, bytes32 hiRoot) {
        if (leafCount == 0 || leafCount > current) revert GameBadLeafCount(jobId, leafCount, current);
        if (window >= leafCount) revert GameBadWindow(window, leafCount);
        bytes32 root = market.traceRootAt(jobId, leafCount);
        if (!_leafOk(window, leaf, leafCount, root)) revert GameBadLeaf(window);
        loRoot = core.initialRoot;
        if (window > 0) {
            if (!_leafOk(window - 1, prevLeaf, leafCount, root)) revert GameBadLeaf(window - 1);
            loRoot = prevLeaf.stateRoot;
        }
        hiRoot = leaf.stateRoot;
    }

    /// @dev A new game on `window` of the job, `defender` answering (the job's solver, or the approver of the window).
    function _newGame(
        uint256 jobId,
        address defender,
        bytes32 specHash,
        IOneStep.SpecCore calldata core,
        uint256 window,
        uint8 degree,
        bytes32 loRoot,
        bytes32 hiRoot
    ) private returns (uint256 gameId) {
        gameId = ++gameCount;
        Game storage g = _games[gameId];
        (g.challenger, g.solver, g.jobId, g.window, g.degree) = (msg.sender, defender, uint64(jobId), uint32(window), degree);
        (g.bond, g.coreHash, g.loRoot, g.hiRoot) = (uint96(msg.value), specHash, loRoot, hiRoot);
        (g.solverTime, g.challengerTime, g.lastMove, g.solverTurn) = (clockBudget, clockBudget, uint40(block.timestamp), true);
        g.opCount = uint8(oneStep.opCount(core.layers.length - 1));
        uint256 c = core.checkpointInterval;
        (g.lo, g.hi, g.phase) = (uint64(window * c), uint64((window + 1) * c), Phase.Steps);
        if (c == 1) _enterOps(g);
        emit GameOpened(gameId, jobId, msg.sender, window, degree, g.lo, g.hi, loRoot, hiRoot);
    }

    // ------------------------------------------------------------------------------------------------ dissection

    /// @inheritdoc IDisputeGame
    function postRoots(uint256 gameId, bytes32[] calldata roots) external {
        Game storage g = _game(gameId);
        if (_closedAsDecided(gameId, g)) return;
        _expectDissection(gameId, g, true);
        uint256 k = _segments(g);
        if (roots.length != k - 1) revert GameBadRoots(gameId, roots.length, k - 1);
        _spend(gameId, g);
        g.pending = keccak256(abi.encode(roots));
        emit RootsPosted(gameId, g.lo, g.hi, roots);
    }

    /// @inheritdoc IDisputeGame
    function pick(uint256 gameId, bytes32[] calldata roots, uint256 segment) external {
        Game storage g = _game(gameId);
        if (_closedAsDecided(gameId, g)) return;
        _expectDissection(gameId, g, false);
        if (keccak256(abi.encode(roots)) != g.pending) revert GameRootMismatch(gameId);
        uint256 k = roots.length + 1;
        if (segment >= k) revert GameBadSegment(gameId, segment);
        _spend(gameId, g);
        uint256 lo = g.lo;
        uint256 span = g.hi - lo;
        if (segment > 0) g.loRoot = roots[segment - 1];
        if (segment < k - 1) g.hiRoot = roots[segment];
        (g.lo, g.hi, g.pending) = (uint64(lo + (span * segment) / k), uint64(lo + (span * (segment + 1)) / k), 0);
        if (g.hi - g.lo == 1) {
            if (g.phase == Phase.Steps) _enterOps(g);
            else g.phase = Phase.Reveal;
        }
        emit SegmentPicked(gameId, segment, g.phase, g.lo, g.hi);
    }

    // ------------------------------------------------------------------------------------------------ one step

    /// @inheritdoc IDisputeGame
    function revealOp(
        uint256 gameId,
        IOneStep.SpecCore calldata core,
        bytes32[] calldata prev,
        bytes32[] calldata next,
        bytes32[][] calldata outputHashes
    ) external {
        Game storage g = _game(gameId);
        if (_closedAsDecided(gameId, g)) return;
        _expect(gameId, g, Phase.Reveal, g.solver);
        if (keccak256(abi.encode(core)) != g.coreHash) revert GameBadSpecCore(g.jobId);
        if (oneStep.machineRoot(prev) != g.loRoot || oneStep.machineRoot(next) != g.hiRoot) {
            revert GameRootMismatch(gameId);
        }
        (uint256[] memory sizes, bytes32[] memory commitments) =
            oneStep.checkTransition(core, g.hi, prev, next, outputHashes);
        _spend(gameId, g);
        emit OpRevealed(gameId, g.step, g.hi, next, outputHashes);
        if (sizes.length == 0) {
            // the step's last op computes nothing: the checked transition is the whole op
            _finish(gameId, g, false, false);
            return;
        }
        g.outputs = uint8(sizes.length);
        (g.size0, g.out0) = (uint64(sizes[0]), commitments[0]);
        if (sizes.length > 1) (g.size1, g.out1) = (uint64(sizes[1]), commitments[1]);
    }

    /// @inheritdoc IDisputeGame
    function nameChunk(uint256 gameId, uint8 outIndex, uint32 chunk, bytes32 leafHash, bytes32[] calldata proof)
        external
    {
        Game storage g = _game(gameId);
        if (_closedAsDecided(gameId, g)) return;
        _expect(gameId, g, Phase.NameChunk, g.challenger);
        if (outIndex >= g.outputs) revert GameBadChunk(gameId, chunk);
        (uint256 size, bytes32 commitment) = outIndex == 0 ? (g.size0, g.out0) : (g.size1, g.out1);
        uint256 leaves = 1 + (size + CHUNK - 1) / CHUNK;
        (bool ok, bytes32 root) = TrainyardMerkle.rootFromProof(leafHash, uint256(chunk) + 1, leaves, proof);
        if (!ok || root != commitment) revert GameBadChunk(gameId, chunk);
        _spend(gameId, g);
        (g.outIndex, g.chunk, g.pending) = (outIndex, chunk, leafHash);
        emit ChunkNamed(gameId, outIndex, chunk, leafHash);
    }

    /// @inheritdoc IDisputeGame
    function revealChunk(uint256 gameId, bytes calldata data) external {
        Game storage g = _game(gameId);
        if (_closedAsDecided(gameId, g)) return;
        _expect(gameId, g, Phase.RevealChunk, g.solver);
        uint256 size = g.outIndex == 0 ? g.size0 : g.size1;
        uint256 first = uint256(g.chunk) * CHUNK;
        uint256 values = size - first < CHUNK ? size - first : CHUNK;
        bytes32 h = TrainyardMerkle.leafHash(abi.encodePacked(uint64(g.chunk) + 1, data));
        if (data.length != 8 * values || h != g.pending) revert GameBadChunk(gameId, g.chunk);
        _spend(gameId, g);
        g.pending = keccak256(data);
        emit ChunkRevealed(gameId, data);
    }

    /// @inheritdoc IDisputeGame
    function proveElement(uint256 gameId, IOneStep.SpecCore calldata core, Proof calldata proof) external {
        Game storage g = _game(gameId);
        if (_closedAsDecided(gameId, g)) return;
        _expect(gameId, g, Phase.Prove, g.challenger);
        if (keccak256(abi.encode(core)) != g.coreHash) revert GameBadSpecCore(g.jobId);
        if (keccak256(proof.chunk) != g.pending || 8 * proof.element + 8 > proof.chunk.length) {
            revert GameBadChunk(gameId, g.chunk);
        }
        if (oneStep.machineRoot(proof.prev) != g.loRoot) revert GameRootMismatch(gameId);
        uint256 pos = uint256(g.chunk) * CHUNK + proof.element;
        int256 recomputed = oneStep.expectedValue(
            core, IOneStep.Query(g.step, g.hi, g.outIndex, pos), proof.prev, proof.inputs, proof.row
        );
        int256 claimed = FixedOps.int64At(proof.chunk, proof.element);
        _spend(gameId, g);
        emit ValueChecked(gameId, pos, claimed, recomputed);
        _finish(gameId, g, claimed != recomputed, true);
    }

    // ------------------------------------------------------------------------------------------------ clocks, money

    /// @inheritdoc IDisputeGame
    function timeout(uint256 gameId) external {
        Game storage g = _game(gameId);
        if (g.phase >= Phase.SolverWon) revert GameWrongPhase(gameId, g.phase);
        if (_closedAsDecided(gameId, g)) return;
        uint256 end = _deadline(g);
        if (block.timestamp <= end) revert GameClockRunning(gameId, end);
        bool solverLost = g.solverTurn;
        emit GameTimedOut(gameId, solverLost);
        _finish(gameId, g, solverLost, false);
    }

    /// @inheritdoc IDisputeGame
    function close(uint256 gameId) external {
        Game storage g = _game(gameId);
        if (g.phase >= Phase.SolverWon) revert GameWrongPhase(gameId, g.phase);
        if (!_closedAsDecided(gameId, g)) revert GameJobUndecided(gameId, g.jobId);
    }

    /// @inheritdoc IDisputeGame
    function claimCredit() external {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert GameNoCredit(msg.sender);
        credits[msg.sender] = 0;
        emit CreditClaimed(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert GameTransferFailed(msg.sender, amount);
    }

    // ------------------------------------------------------------------------------------------------ views

    /// @inheritdoc IDisputeGame
    function game(uint256 gameId) external view returns (Game memory) {
        return _game(gameId);
    }

    /// @notice Accepts only the slash rewards this contract claims from Staking.
    receive() external payable {
        if (msg.sender != address(staking)) revert GameUnexpectedPayment(msg.sender, msg.value);
    }

    /// @inheritdoc IDisputeGame
    function liveApprovalGames(uint256 jobId) external view returns (uint256) {
        return _approvalLive[jobId];
    }

    /// @inheritdoc IDisputeGame
    function liveCount(uint256 jobId) external view returns (uint256) {
        return _liveCount[jobId];
    }

    /// @inheritdoc IDisputeGame
    function pot(uint256 jobId) external view returns (uint256 share, uint256 left) {
        Pot storage p = _pots[jobId];
        return (p.share, p.left);
    }

    /// @inheritdoc IDisputeGame
    function provenWrong(uint256 jobId) external view returns (bool proven, uint256 window) {
        uint256 w = _provenWindow[jobId];
        return (w != 0, w == 0 ? 0 : w - 1);
    }

    /// @inheritdoc IDisputeGame
    function deadline(uint256 gameId) external view returns (address mover, uint256 deadline_) {
        Game storage g = _game(gameId);
        return (g.solverTurn ? g.solver : g.challenger, _deadline(g));
    }

    // ------------------------------------------------------------------------------------------------ internal

    /// @dev End a game on a job that is still open. A challenger that loses forfeits its bond: bondRewardBps to the
    /// solver, the rest burned. A solver that loses is slashed through the market; the slash reward R comes to this
    /// contract and is shared equally among the N games of the job live at that moment: this game's challenger gets
    /// R/N now, every other one when its game is closed ({_closedAsDecided}). Constant work: no loop over games.
    function _finish(uint256 gameId, Game storage g, bool solverLost, bool byProof) private {
        if (approvalGame[gameId]) {
            _finishApproval(gameId, g, solverLost);
            return;
        }
        uint256 jobId = g.jobId;
        uint256 live = _liveCount[jobId]; // counts this game: >= 1
        _liveCount[jobId] = live - 1;
        if (!solverLost) {
            g.phase = Phase.SolverWon;
            uint256 reward = (uint256(g.bond) * bondRewardBps) / BPS;
            credits[g.solver] += reward;
            totalBurned += g.bond - reward;
            emit GameEnded(gameId, jobId, false, g.solver, g.bond - reward);
            // slither-disable-next-line unused-return (a challenger's loss slashes nothing: the reward is 0)
            market.resolveDispute(jobId, false, false, g.challenger);
            return;
        }
        g.phase = Phase.ChallengerWon;
        // every game touches the job's state first (_closedAsDecided): here the job is still open, this game slashes it
        slashedBy[jobId] = g.challenger;
        if (byProof) _provenWindow[jobId] = uint256(g.window) + 1;
        // the reward is only known from the market's answer: the calls go to the market and Staking fixed at
        // deployment, and Staking pays into `receive`, which changes nothing here
        uint256 reward = market.resolveDispute(jobId, true, byProof, address(this));
        if (reward != 0) staking.claimCredit();
        uint256 share = reward / live;
        _pots[jobId] = Pot(uint128(share), uint128(reward - share)); // reward <= a uint80 stake
        credits[g.challenger] += g.bond + share;
        emit PotRecorded(jobId, gameId, reward, live, share);
        emit GameEnded(gameId, jobId, true, g.challenger, 0);
    }

    /// @dev End a game against an approval. The approver (the game's `solver` field) that loses, by the proof or on
    /// time, is recorded (`approverLost`: the pool burns its approval stake at settlement) and the challenger gets its
    /// bond back; an approver that wins is paid bondRewardBps of the bond, the rest burned. The job is not touched.
    function _finishApproval(uint256 gameId, Game storage g, bool approverLostIt) private {
        uint256 jobId = g.jobId;
        --_approvalLive[jobId];
        if (approverLostIt) {
            g.phase = Phase.ChallengerWon;
            approverLost[jobId] = true;
            credits[g.challenger] += g.bond;
            emit GameEnded(gameId, jobId, true, g.challenger, 0);
            return;
        }
        g.phase = Phase.SolverWon;
        uint256 reward = (uint256(g.bond) * bondRewardBps) / BPS;
        credits[g.solver] += reward;
        totalBurned += g.bond - reward;
        emit GameEnded(gameId, jobId, false, g.solver, g.bond - reward);
    }

    /// @dev Close a live game whose job is decided (its solver lost another game, or missed the training deadline):
    /// the challenger gets its bond back and its share of the job's pot (none after a training timeout); the last
    /// game closed takes what is left, so the pot is paid out exactly. Returns false (and does nothing) for a game
    /// already over or a job still undecided.
    function _closedAsDecided(uint256 gameId, Game storage g) private returns (bool) {
        if (g.phase >= Phase.SolverWon) return false; // an ended game is never closed (nor paid) again
        if (approvalGame[gameId]) return false; // a game against an approval is played out whatever the job's fate
        uint256 jobId = g.jobId;
        if (market.state(jobId) != IJobMarket.JobState.Slashed) return false;
        uint256 live = _liveCount[jobId]; // counts this game: >= 1
        _liveCount[jobId] = live - 1;
        Pot storage p = _pots[jobId];
        // share · (games still live) <= left, so the pot never runs short; the last game takes the rounding remainder
        uint256 paid = live == 1 ? p.left : p.share;
        p.left -= uint128(paid);
        g.phase = Phase.Closed;
        credits[g.challenger] += g.bond + paid;
        emit GameClosed(gameId, jobId, g.challenger, paid);
        // slither-disable-next-line unused-return (closing a game slashes nothing: the reward is 0)
        market.resolveDispute(jobId, false, false, g.challenger);
        return true;
    }

    /// @dev The disputed step is found: dissect its ops, machine state 0 (= the step's state root) to N.
    function _enterOps(Game storage g) private {
        (g.step, g.lo, g.hi, g.phase) = (g.lo, 0, g.opCount, Phase.Ops);
    }

    /// @dev Charge the mover's clock for the time since the last move and pass the turn.
    function _spend(uint256 gameId, Game storage g) private {
        uint256 elapsed = block.timestamp - g.lastMove;
        if (g.solverTurn) {
            if (elapsed > g.solverTime) revert GameOutOfTime(gameId, _deadline(g));
            g.solverTime -= uint32(elapsed);
        } else {
            if (elapsed > g.challengerTime) revert GameOutOfTime(gameId, _deadline(g));
            g.challengerTime -= uint32(elapsed);
        }
        g.lastMove = uint40(block.timestamp);
        g.solverTurn = !g.solverTurn;
        // the one-step moves follow each other: Reveal -> NameChunk -> RevealChunk -> Prove
        Phase p = g.phase;
        if (p >= Phase.Reveal && p <= Phase.RevealChunk) g.phase = Phase(uint8(p) + 1);
    }

    function _deadline(Game storage g) private view returns (uint256) {
        return uint256(g.lastMove) + (g.solverTurn ? g.solverTime : g.challengerTime);
    }

    function _segments(Game storage g) private view returns (uint256) {
        uint256 span = g.hi - g.lo;
        return span < g.degree ? span : g.degree;
    }

    function _expectDissection(uint256 gameId, Game storage g, bool solver) private view {
        if (g.phase != Phase.Steps && g.phase != Phase.Ops) revert GameWrongPhase(gameId, g.phase);
        if (g.solverTurn != solver || msg.sender != (solver ? g.solver : g.challenger)) {
            revert GameNotYourTurn(gameId, msg.sender);
        }
    }

    function _expect(uint256 gameId, Game storage g, Phase phase, address mover) private view {
        if (g.phase != phase) revert GameWrongPhase(gameId, g.phase);
        if (msg.sender != mover) revert GameNotYourTurn(gameId, msg.sender);
    }

    function _leafOk(uint256 window, Leaf calldata leaf, uint256 leafCount, bytes32 root) private pure returns (bool) {
        bytes memory data = abi.encodePacked(uint64(window), leaf.stateRoot, leaf.cidHash, leaf.interiorRoot);
        return TrainyardMerkle.verify(data, window, leafCount, leaf.proof, root);
    }

    function _game(uint256 gameId) private view returns (Game storage g) {
        g = _games[gameId];
        if (g.phase == Phase.None) revert GameUnknown(gameId);
    }
}
