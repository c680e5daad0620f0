"""Typed calls to VerifierPool over :class:`~trainyard.chain.Chain`, and the Python twin of its sampling (which
(window, interior point) pairs an approval opens)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from trainyard.chain import Chain
from trainyard.errors import ChainError

if TYPE_CHECKING:
    from trainyard.spec_core import AbiTuple

MAX_SAMPLES = 16  # VerifierPool.MAX_SAMPLES
MAX_DRAW_TRIES = 16  # VerifierPool.MAX_DRAW_TRIES
DEVNET_CHAIN_ID = 31337  # Anvil's
_BPS = 10_000
# One sampled point of an approval: the window's trace leaf (state root, sha256(CID), interior root, proof) and the
# interior digest at the point with its proof (VerifierPool's Opening struct).
Opening = tuple[bytes, bytes, bytes, list[bytes], bytes, list[bytes]]


def sample_count(windows: int, sample_bps: int) -> int:
    """Windows an approval opens: ``sample_bps`` of them, rounded up, in [1, MAX_SAMPLES]."""
    return min(MAX_SAMPLES, max(1, (windows * sample_bps + _BPS - 1) // _BPS))


def inner_points(interval: int) -> int:
    """Interior points strictly inside a window of ``interval`` steps: point j is the state after (j+1)·stride
    steps, and (j+1)·stride < interval, so no sample is the window's end state (its checkpoint is published)."""
    from trainyard.runtime.commit import interior_stride  # here: the runtime imports torch, which status never needs

    return (interval - 1) // interior_stride(interval) if interval > 0 else 0


def _word(seed: bytes, i: int, kind: int) -> int:
    return int.from_bytes(keccak(encode(["bytes32", "uint256", "uint256"], [seed, i, kind])), "big")


def sample_points(seed: bytes, windows: int, interval: int, sample_bps: int) -> list[tuple[int, int]]:
    """The (window, interior point) pairs an approval opens: VerifierPool._samples."""
    inner = inner_points(interval)
    if inner == 0:
        raise ValueError(f"a window of {interval} step(s) has no interior point to open")
    return [(_word(seed, i, 0) % windows, _word(seed, i, 1) % inner) for i in range(sample_count(windows, sample_bps))]


@dataclass(frozen=True)
class Assignment:
    funder: str
    fee: int
    verifier: str
    locked: int
    request_block: int
    members: int
    tries: int
    approved: bool
    settled: bool
    fallback_seed: bytes
    seed: bytes

    @property
    def funded(self) -> bool:
        return int(self.funder, 16) != 0

    @property
    def drawn(self) -> bool:
        return int(self.verifier, 16) != 0


def draw_ready_block(a: Assignment) -> int:
    """The first block at which an agent draws: after the randomness block, and after k draws that found no eligible
    member 16·k blocks later (a pool with nobody eligible is not drawn every tick)."""
    return a.request_block + 16 * (a.tries // MAX_DRAW_TRIES) + 1


def draw_action(a: Assignment, block: int, devnet: bool = False) -> str | None:
    """What an agent sends for a funded, undrawn assignment at ``block``: ``"request"`` the draw once (it is never
    renewed), ``"draw"`` once :func:`draw_ready_block` is reached, or nothing while it waits for blocks. On a local
    devnet, where no block comes unless someone sends a transaction, it answers ``"mine"`` instead of waiting: the
    agent mines the blocks the draw waits for (a live chain mines its own)."""
    if a.request_block == 0:
        return "request"
    if block < draw_ready_block(a):
        return "mine" if devnet else None
    return "draw"


class PoolClient:
    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.pool = chain.contract("VerifierPool")

    def assignment(self, job_id: int) -> Assignment:
        f, fee, v, locked, block, members, tries, approved, settled, fallback, seed = self.chain.call(
            self.pool.functions.assignment(job_id))
        return Assignment(str(f), int(fee), str(v), int(locked), int(block), int(members), int(tries), bool(approved),
                          bool(settled), bytes(fallback), bytes(seed))

    def verifiers(self) -> list[str]:
        """The active members (read entry by entry, off chain)."""
        out = []
        for i in range(int(self.chain.call(self.pool.functions.memberCount()))):
            v, active = self.chain.call(self.pool.functions.memberAt(i))
            if active:
                out.append(str(v))
        return out

    def registered(self, who: str | None = None) -> bool:
        """Whether ``who`` (default: this account) is an active member of the draw."""
        return bool(self.chain.call(self.pool.functions.isMember(to_checksum_address(who or self.chain.address))))

    def sample_bps(self) -> int:
        return int(self.chain.call(self.pool.functions.sampleBps()))

    def stake(self) -> int:
        return int(self.chain.call(self.pool.functions.verifierStake()))

    def credit(self, who: str | None = None) -> int:
        return int(self.chain.call(self.pool.functions.credits(to_checksum_address(who or self.chain.address))))

    def block(self) -> int:
        return int(self.chain.w3.eth.block_number)

    def draw_action(self, a: Assignment) -> str | None:
        """:func:`draw_action` at the current block."""
        return draw_action(a, self.block(), self.devnet())

    def devnet(self) -> bool:
        """Whether the node is a local Anvil devnet (chain id 31337), where blocks come only with transactions."""
        return int(self.chain.w3.eth.chain_id) == DEVNET_CHAIN_ID

    def mine_until_draw(self, a: Assignment) -> int:
        """On a devnet, mine the blocks the draw waits for (``anvil_mine``); returns how many."""
        n = draw_ready_block(a) - self.block()
        if n > 0:
            reply = self.chain.w3.provider.make_request("anvil_mine", [hex(n)])  # type: ignore[arg-type]
            if "error" in reply:
                raise ChainError(f"could not mine {n} block(s) on the devnet: {reply['error']}")
        return max(n, 0)

    def approver_of(self, job_id: int, window: int) -> str | None:
        """The verifier whose approval of the job opened ``window``, or None."""
        v = str(self.chain.call(self.pool.functions.approverOf(job_id, window)))
        return None if int(v, 16) == 0 else v

    def can_settle(self, job_id: int) -> bool:
        """Whether ``settle`` goes through now (an approval waits for the end of the challenge period and of the
        games against it)."""
        return bool(self.chain.call(self.pool.functions.canSettle(job_id)))

    def approval_deadline(self, job_id: int) -> int:
        """When approvals of the job close (its result time + half its challenge period; 0: no result yet)."""
        return int(self.chain.call(self.pool.functions.approvalDeadline(job_id)))

    def register(self) -> None:
        self.chain.transact(self.pool.functions.register(), label="pool.register")

    def fund(self, job_id: int, fee: int) -> None:
        self.chain.transact(self.pool.functions.fund(job_id), value=fee, label="pool.fund")

    def request_draw(self, job_id: int) -> None:
        self.chain.transact(self.pool.functions.requestDraw(job_id), label="pool.requestDraw")

    def draw(self, job_id: int) -> None:
        self.chain.transact(self.pool.functions.draw(job_id), label="pool.draw")

    def samples(self, job_id: int, windows: int, interval: int) -> list[tuple[int, int]]:
        """The (window, interior point) pairs an approval of the job opens, computed here from the draw's seed."""
        return sample_points(self.assignment(job_id).seed, windows, interval, self.sample_bps())

    def approve(self, job_id: int, core: AbiTuple, openings: list[Opening]) -> None:
        self.chain.transact(self.pool.functions.approve(job_id, core, openings), label="pool.approve")

    def settle(self, job_id: int) -> None:
        self.chain.transact(self.pool.functions.settle(job_id), label="pool.settle")

    def claim(self) -> int:
        amount = self.credit()
        if amount:
            self.chain.transact(self.pool.functions.claimCredit(), label="pool.claimCredit")
        return amount
