"""Typed calls to VerifierPool over :class:`~trainyard.chain.Chain`."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_checksum_address

from trainyard.chain import Chain


@dataclass(frozen=True)
class Assignment:
    funder: str
    fee: int
    verifier: str
    request_block: int
    approved: bool
    settled: bool
    seed: bytes

    @property
    def funded(self) -> bool:
        return int(self.funder, 16) != 0

    @property
    def drawn(self) -> bool:
        return int(self.verifier, 16) != 0


class PoolClient:
    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.pool = chain.contract("VerifierPool")

    def assignment(self, job_id: int) -> Assignment:
        funder, fee, verifier, block, approved, settled, seed = self.chain.call(self.pool.functions.assignment(job_id))
        return Assignment(str(funder), int(fee), str(verifier), int(block), bool(approved), bool(settled), bytes(seed))

    def verifiers(self) -> list[str]:
        return [str(v) for v in self.chain.call(self.pool.functions.verifiers())]

    def registered(self, who: str | None = None) -> bool:
        me = to_checksum_address(who or self.chain.address)
        return any(v.lower() == me.lower() for v in self.verifiers())

    def stake(self) -> int:
        return int(self.chain.call(self.pool.functions.verifierStake()))

    def credit(self, who: str | None = None) -> int:
        return int(self.chain.call(self.pool.functions.credits(to_checksum_address(who or self.chain.address))))

    def block(self) -> int:
        return int(self.chain.w3.eth.block_number)

    def register(self) -> None:
        self.chain.transact(self.pool.functions.register(), label="pool.register")

    def fund(self, job_id: int, fee: int) -> None:
        self.chain.transact(self.pool.functions.fund(job_id), value=fee, label="pool.fund")

    def request_draw(self, job_id: int) -> None:
        self.chain.transact(self.pool.functions.requestDraw(job_id), label="pool.requestDraw")

    def draw(self, job_id: int) -> None:
        self.chain.transact(self.pool.functions.draw(job_id), label="pool.draw")

    def samples(self, job_id: int, windows: int, interval: int) -> list[tuple[int, int]]:
        """The (window, step inside it) pairs an approval of the job opens."""
        ws, js = self.chain.call(self.pool.functions.samples(job_id, windows, interval))
        return [(int(w), int(j)) for w, j in zip(ws, js)]

    def approve(self, job_id: int, core: tuple, openings: list[tuple]) -> None:  # type: ignore[type-arg]
        self.chain.transact(self.pool.functions.approve(job_id, core, openings), label="pool.approve")

    def settle(self, job_id: int) -> None:
        self.chain.transact(self.pool.functions.settle(job_id), label="pool.settle")

    def claim(self) -> int:
        amount = self.credit()
        if amount:
            self.chain.transact(self.pool.functions.claimCredit(), label="pool.claimCredit")
        return amount
