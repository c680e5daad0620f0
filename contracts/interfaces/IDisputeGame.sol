// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOneStep} from "./IOneStep.sol";

/// @title Trainyard dispute game
/// @notice A challenger who disputes a window of a solver's checkpoint trace plays a game against the solver:
/// dissection over the window's steps, then over the ops of the one disputed step, then a one-step proof where this
/// contract recomputes one output value of one op (docs/disputes.md). Each party has a chess clock; whoever is
/// wrong or runs out of time loses. A solver that loses is slashed through the market and the job refunded; a
/// challenger that loses forfeits its bond (part to the solver, the rest burned). Games on one job run side by side,
/// with no cap: when the solver loses one, its slash reward is shared equally among the games of the job live at that
/// moment, and each of the others is closed (bond back plus its share) when anyone next touches it.
interface IDisputeGame {
    /// @notice Where a game is. `Steps` and `Ops`: the solver posts roots, then the challenger picks a segment.
    enum Phase {
        None,
        Steps,
        Ops,
        Reveal,
        NameChunk,
        RevealChunk,
        Prove,
        SolverWon,
        ChallengerWon,
        Closed
    }

    /// @notice A game as stored. Positions `lo`, `hi` are steps (phase Steps) or machine states of step `step`
    /// (phase Ops and later; op = hi). Clocks are seconds left; `lastMove` starts the mover's clock.
    struct Game {
        // slot 0
        address challenger;
        uint40 lastMove;
        uint32 solverTime;
        Phase phase;
        bool solverTurn;
        uint8 degree;
        uint8 outIndex;
        uint8 outputs;
        // slot 1
        address solver;
        uint32 challengerTime;
        uint32 window;
        uint8 opCount;
        // slot 2
        uint64 jobId;
        uint64 lo;
        uint64 hi;
        uint64 step;
        // slot 3
        uint96 bond;
        uint32 chunk;
        uint64 size0;
        uint64 size1;
        // slots 4..9
        bytes32 coreHash;
        bytes32 loRoot;
        bytes32 hiRoot;
        bytes32 pending;
        bytes32 out0;
        bytes32 out1;
    }

    /// @notice A job's slash reward while it is shared among the games that were live when the solver lost: `share`
    /// per game, `left` not yet paid out.
    struct Pot {
        uint128 share;
        uint128 left;
    }

    /// @notice A trace leaf as the challenger opens it: leaf w = uint64_be(w) || stateRoot || cidHash || interiorRoot.
    struct Leaf {
        bytes32 stateRoot;
        bytes32 cidHash;
        bytes32 interiorRoot;
        bytes32[] proof;
    }

    /// @notice The challenger's last move: one value of the solver's revealed chunk and the inputs it depends on.
    struct Proof {
        bytes chunk;
        uint256 element;
        bytes32[] prev;
        IOneStep.Chunks[] inputs;
        IOneStep.DataRow row;
    }

    error GameUnknown(uint256 gameId);
    error GameBadBond(uint256 sent, uint256 required);
    error GameBadDegree(uint256 degree);
    error GameChallengerIsSolver(uint256 jobId);
    error GameBadSpecCore(uint256 jobId);
    error GameBadWindow(uint256 window, uint256 leafCount);
    error GameBadLeaf(uint256 window);
    /// @notice The leaf count a challenge's proofs were made against is not one the job's trace has had.
    error GameBadLeafCount(uint256 jobId, uint256 leafCount, uint256 current);
    /// @notice `close` on a game whose job is still undecided (the game must be played).
    error GameJobUndecided(uint256 gameId, uint256 jobId);
    /// @notice ETH sent by anyone but Staking (which pays the slash rewards this contract claims).
    error GameUnexpectedPayment(address sender, uint256 amount);
    error GameWrongPhase(uint256 gameId, Phase phase);
    error GameNotYourTurn(uint256 gameId, address caller);
    error GameOutOfTime(uint256 gameId, uint256 deadline);
    error GameClockRunning(uint256 gameId, uint256 deadline);
    error GameBadRoots(uint256 gameId, uint256 given, uint256 expected);
    error GameBadSegment(uint256 gameId, uint256 segment);
    error GameRootMismatch(uint256 gameId);
    error GameBadChunk(uint256 gameId, uint256 chunk);
    error GameNoCredit(address account);
    error GameTransferFailed(address to, uint256 amount);
    /// @dev `setVerifierPool` by someone other than the deployer, or a second time.
    error GameUnauthorized(address caller);
    /// @dev No approval of the job opened this window (not approved, not sampled, or no pool wired).
    error GameNotApproved(uint256 jobId, uint256 window);
    /// @dev An approver cannot open a game against its own approval.
    error GameChallengerIsDefender(uint256 jobId);
    /// @dev Approvals can be challenged only until the end of the job's challenge period.
    error GameApprovalChallengeClosed(uint256 jobId, uint256 closedAt);

    event GameOpened(
        uint256 indexed gameId,
        uint256 indexed jobId,
        address indexed challenger,
        uint256 window,
        uint256 degree,
        uint256 lo,
        uint256 hi,
        bytes32 loRoot,
        bytes32 hiRoot
    );
    event RootsPosted(uint256 indexed gameId, uint256 lo, uint256 hi, bytes32[] roots);
    event SegmentPicked(uint256 indexed gameId, uint256 segment, Phase phase, uint256 lo, uint256 hi);
    event OpRevealed(uint256 indexed gameId, uint256 step, uint256 op, bytes32[] next, bytes32[][] outputHashes);
    event ChunkNamed(uint256 indexed gameId, uint256 outIndex, uint256 chunk, bytes32 leafHash);
    event ChunkRevealed(uint256 indexed gameId, bytes data);
    event ValueChecked(uint256 indexed gameId, uint256 position, int256 claimed, int256 recomputed);
    event GameTimedOut(uint256 indexed gameId, bool solverLost);
    event GameEnded(uint256 indexed gameId, uint256 indexed jobId, bool solverLost, address rewarded, uint256 burned);
    /// @notice A live game of a decided job was closed: its challenger was credited its bond plus `share` of the pot.
    event GameClosed(uint256 indexed gameId, uint256 indexed jobId, address indexed challenger, uint256 share);
    /// @notice The job's solver lost game `gameId`: the slash reward `reward` is shared by the `games` games live then,
    /// `share` each (the last one closed takes the remainder).
    event PotRecorded(uint256 indexed jobId, uint256 indexed gameId, uint256 reward, uint256 games, uint256 share);
    event CreditClaimed(address indexed account, uint256 amount);
    /// @dev Game `gameId` challenges the approval of `approver`, who defends it (the game's `solver` field).
    event ApprovalChallenged(uint256 indexed gameId, uint256 indexed jobId, address indexed approver);
    event VerifierPoolSet(address indexed pool);

    /// @notice Open a game against the solver of `jobId`, paying the bond: dispute trace leaf `window`, agreeing with
    /// leaf window-1 (the spec core's initial root for window 0). Both leaves are opened against the trace root the
    /// job had at `leafCount` leaves, so a commit mined just before this call does not void it. No cap on games: the
    /// market accepts them while disputes are open (docs/disputes.md). A spec core outside the limits of the one-step
    /// proof ({IOneStep-checkLimits}) is refused.
    /// @param jobId The job (training with a committed leaf, in its challenge period, or already disputed).
    /// @param core The job's spec core (its keccak256 must be the job's spec hash).
    /// @param window The first trace leaf the caller disputes.
    /// @param leafCount The leaf count the proofs were made against: window < leafCount <= the job's leaf count.
    /// @param prevLeaf Leaf window-1 (ignored for window 0).
    /// @param leaf Leaf window.
    /// @param degree Dissection degree, 2 (bisection) to MAX_DEGREE.
    /// @return gameId The new game.
    function challenge(
        uint256 jobId,
        IOneStep.SpecCore calldata core,
        uint256 window,
        uint256 leafCount,
        Leaf calldata prevLeaf,
        Leaf calldata leaf,
        uint8 degree
    ) external payable returns (uint256 gameId);

    /// @notice Open a game against the pool verifier that approved `jobId`, on a `window` its approval opened, paying
    /// the bond. The approver defends the window as a solver would (its re-execution gives every root); the
    /// solver's result is not touched. A lost game (by the proof or on time) burns the approver's approval stake when
    /// the pool settles; a won one pays the approver `bondRewardBps` of the bond. Open until the end of the job's
    /// challenge period, whatever the job's state (also after the solver lost or forfeited its own games).
    /// @param jobId The job.
    /// @param core The job's spec core (its keccak256 must be the job's spec hash).
    /// @param window A window the job's approval opened (VerifierPool.approverOf).
    /// @param leafCount The leaf count the proofs were made against.
    /// @param prevLeaf Leaf window-1 (ignored for window 0).
    /// @param leaf Leaf window.
    /// @param degree Dissection degree, 2 (bisection) to MAX_DEGREE.
    /// @return gameId The new game.
    function challengeApproval(
        uint256 jobId,
        IOneStep.SpecCore calldata core,
        uint256 window,
        uint256 leafCount,
        Leaf calldata prevLeaf,
        Leaf calldata leaf,
        uint8 degree
    ) external payable returns (uint256 gameId);

    /// @notice Name the verifier pool whose approvals can be challenged: the deployer, once.
    /// @param pool The VerifierPool.
    function setVerifierPool(address pool) external;

    /// @notice Whether a game challenges a pool approval (its defender, the `solver` field, is the approver).
    /// @param gameId The game.
    /// @return Whether it does.
    function approvalGame(uint256 gameId) external view returns (bool);

    /// @notice Whether the approver of a job lost a game on a window its approval opened.
    /// @param jobId The job.
    /// @return Whether it did.
    function approverLost(uint256 jobId) external view returns (bool);

    /// @notice Games against a job's approval not yet ended.
    /// @param jobId The job.
    /// @return The count.
    function liveApprovalGames(uint256 jobId) external view returns (uint256);

    /// @notice The solver posts the roots at the k-1 inner points lo + (hi-lo)·j/k, k = min(degree, hi-lo).
    /// @param gameId The game.
    /// @param roots State roots (phase Steps) or machine roots (phase Ops), in order.
    function postRoots(uint256 gameId, bytes32[] calldata roots) external;

    /// @notice The challenger names the first segment whose end it disputes (it agrees with the segment's start).
    /// @param gameId The game.
    /// @param roots The roots the solver posted (checked against their hash).
    /// @param segment 0..k-1.
    function pick(uint256 gameId, bytes32[] calldata roots, uint256 segment) external;

    /// @notice The solver opens the disputed op: the slot values before and after it and the leaf hashes of the
    /// tensors it computes (checked by {IOneStep-checkTransition}). For the step's last op this ends the game.
    /// @param gameId The game.
    /// @param core The job's spec core.
    /// @param prev Slot values of the agreed state.
    /// @param next Slot values of the disputed state.
    /// @param outputHashes Leaf hashes of each computed tensor.
    function revealOp(
        uint256 gameId,
        IOneStep.SpecCore calldata core,
        bytes32[] calldata prev,
        bytes32[] calldata next,
        bytes32[][] calldata outputHashes
    ) external;

    /// @notice The challenger names a chunk of a computed tensor it disputes, proving the solver's leaf hash of it.
    /// @param gameId The game.
    /// @param outIndex Which computed tensor.
    /// @param chunk The chunk (0-based; leaf chunk + 1).
    /// @param leafHash The solver's leaf hash of that chunk.
    /// @param proof Its inclusion proof in the solver's tensor commitment.
    function nameChunk(uint256 gameId, uint8 outIndex, uint32 chunk, bytes32 leafHash, bytes32[] calldata proof)
        external;

    /// @notice The solver reveals the named chunk's values (little-endian int64s).
    /// @param gameId The game.
    /// @param data The chunk.
    function revealChunk(uint256 gameId, bytes calldata data) external;

    /// @notice The challenger picks one value of the revealed chunk and opens the op's inputs against the agreed
    /// state; the contract recomputes the value. Different from the solver's: the solver loses; equal: the
    /// challenger loses.
    /// @param gameId The game.
    /// @param core The job's spec core.
    /// @param proof The chunk, the value's index in it, the agreed slot values and the opened inputs.
    function proveElement(uint256 gameId, IOneStep.SpecCore calldata core, Proof calldata proof) external;

    /// @notice Anyone ends a game whose party to move has run out of time; that party loses. On a decided job it
    /// closes the game instead (see `close`), like every move.
    /// @param gameId The game.
    function timeout(uint256 gameId) external;

    /// @notice Anyone closes a live game whose job is decided: its solver lost another game (the challenger is
    /// credited its bond plus its share of the pot) or missed the training deadline (its bond only). Every move and
    /// `timeout` on such a game does the same. Constant work.
    /// @param gameId The game.
    function close(uint256 gameId) external;

    /// @notice Send the caller its credits (returned bonds, rewards).
    function claimCredit() external;

    /// @notice A game.
    /// @param gameId The game.
    /// @return The stored game.
    function game(uint256 gameId) external view returns (Game memory);

    /// @notice Whether the job's solver lost a game by the one-step proof (the contract recomputed a value and it
    /// differed from the solver's), not on time, and in which window. Information only: an approver's stake depends
    /// on the games against its own approval (`approverLost`), never on the solver's, which the solver can lose on
    /// purpose.
    /// @param jobId The job.
    /// @return proven Whether it happened.
    /// @return window The game's window (0 when not proven).
    function provenWrong(uint256 jobId) external view returns (bool proven, uint256 window);

    /// @notice How many games against the job's solver are live (not ended, not closed); games against its approval are
    /// counted by `liveApprovalGames`. Their ids are in the `GameOpened` events.
    /// @param jobId The job.
    /// @return The count.
    function liveCount(uint256 jobId) external view returns (uint256);

    /// @notice A job's slash reward while it is being shared (zero before its solver lost a game, and after a
    /// training timeout).
    /// @param jobId The job.
    /// @return share What each game live when the solver lost is credited.
    /// @return left What is not yet paid out.
    function pot(uint256 jobId) external view returns (uint256 share, uint256 left);

    /// @notice Who must move next and until when.
    /// @param gameId The game.
    /// @return mover The party to move.
    /// @return deadline_ The last second it may move.
    function deadline(uint256 gameId) external view returns (address mover, uint256 deadline_);
}
