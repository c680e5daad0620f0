"""Typed calls to Staking and JobMarket over :class:`~trainyard.chain.Chain`: one place for every ABI detail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_abi import encode as abi_encode
from eth_typing import ABIFunction
from eth_utils import keccak, to_checksum_address
from web3.logs import DISCARD

from trainyard.chain import Chain
from trainyard.jobs import JobState, JobView
from trainyard.spec import MarketSpec

if TYPE_CHECKING:  # the spec core module loads the runtime (torch); the market only needs its ABI tuple
    from trainyard.spec_core import SpecCore


def bid_commitment(job_id: int, bidder: str, price: int, salt: bytes) -> bytes:
    """keccak256(abi.encode(jobId, bidder, price, salt)): binds the sealed bid to its job and bidder."""
    return keccak(
        abi_encode(["uint256", "address", "uint256", "bytes32"], [job_id, to_checksum_address(bidder), price, salt])
    )


@dataclass(frozen=True)
class StakeInfo:
    free: int
    locked: int
    unbonding: int
    release_at: int
    credits: int


def _named(fn_abi: ABIFunction, value: Any) -> dict[str, Any]:
    """A returned struct (tuple) as a dict keyed by the ABI's component names."""
    out = fn_abi["outputs"]
    if len(out) == 1 and out[0]["type"] == "tuple":
        comps = out[0]["components"]
    else:
        comps, value = out, value
    return {c["name"]: v for c, v in zip(comps, value, strict=True)}


class Market:
    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.market = chain.contract("JobMarket")
        self.staking = chain.contract("Staking")
        self._spec_cids: dict[int, str] = {}  # a job's spec CID never changes: one log query per job

    # -- reads ----------------------------------------------------------------------------------------------
    def job_count(self) -> int:
        return int(self.chain.call(self.market.functions.jobCount()))

    def job(self, job_id: int) -> JobView:
        fn = self.market.functions.job(job_id)
        j = _named(fn.abi, self.chain.call(fn))
        state = JobState(int(self.chain.call(self.market.functions.state(job_id))))
        return JobView(
            job_id=job_id,
            state=state,
            submitter=str(j["submitter"]),
            spec_hash=bytes(j["specHash"]),
            spec_cid=self._spec_cid(job_id),
            max_price=int(j["maxPrice"]),
            stake_per_bid=int(j["stakePerBid"]),
            num_windows=int(j["numWindows"]),
            bid_deadline=int(j["bidDeadline"]),
            reveal_deadline=int(j["revealDeadline"]),
            train_deadline=int(j["trainDeadline"]),
            challenge_period=int(j["challengePeriod"]),
            bid_count=int(j["bidCount"]),
            winner=str(j["winner"]),
            leader=str(j["leader"]),
            price=int(j["price"]),
            leaf_count=int(j["leafCount"]),
            trace_root=bytes(j["traceRoot"]),
            result_at=int(j["resultAt"]),
            open_disputes=int(j["openDisputes"]),
        )

    def bid(self, job_id: int, index: int) -> dict[str, Any]:
        """Sealed bid ``index`` of a job: bidder, price (once revealed), revealed, valid, commitment."""
        fn = self.market.functions.bid(job_id, index)
        return _named(fn.abi, self.chain.call(fn))

    def _spec_cid(self, job_id: int) -> str:
        if job_id not in self._spec_cids:
            logs = self.chain.events("JobMarket", "JobPosted", jobId=job_id)
            if not logs:
                return ""
            self._spec_cids[job_id] = str(logs[0]["args"]["specCID"])
        return self._spec_cids[job_id]

    def stake_info(self, who: str | None = None) -> StakeInfo:
        a = to_checksum_address(who or self.chain.address)
        s = self.staking.functions
        amount, release_at = self.chain.call(s.unbonding(a))
        credits = int(self.chain.call(s.credits(a))) + int(self.chain.call(self.market.functions.credits(a)))
        return StakeInfo(
            free=int(self.chain.call(s.freeStake(a))),
            locked=int(self.chain.call(s.lockedStake(a))),
            unbonding=int(amount),
            release_at=int(release_at),
            credits=credits,
        )

    # -- submitter ------------------------------------------------------------------------------------------
    def _post_call(self, core: SpecCore, spec_cid: str, num_windows: int, m: MarketSpec) -> Any:
        params = (m.stake_per_bid, num_windows, m.bid_period, m.reveal_period, m.train_period, m.challenge_period)
        return self.market.functions.postJob(core.abi_tuple(), spec_cid, params)

    def estimate_post_job(self, core: SpecCore, spec_cid: str, num_windows: int, m: MarketSpec) -> int:
        """The gas :meth:`post_job` would use; the contract's checks run (a refusal is raised, decoded) and nothing
        is sent."""
        return self.chain.estimate(self._post_call(core, spec_cid, num_windows, m), value=m.max_price)

    def post_job(self, core: SpecCore, spec_cid: str, num_windows: int, m: MarketSpec) -> int:
        """Post a job; the chain derives its spec hash from ``core`` and refuses a core no dispute could settle."""
        receipt = self.chain.transact(
            self._post_call(core, spec_cid, num_windows, m), value=m.max_price, label="postJob"
        )
        (event,) = self.market.events.JobPosted().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["jobId"])

    def cancel(self, job_id: int) -> None:
        self.chain.transact(self.market.functions.cancelJob(job_id))

    # -- solver ---------------------------------------------------------------------------------------------
    def commit_bid(self, job_id: int, price: int, salt: bytes) -> int:
        """Send a sealed bid; return its index (needed to reveal it)."""
        commitment = bid_commitment(job_id, self.chain.address, price, salt)
        receipt = self.chain.transact(self.market.functions.commitBid(job_id, commitment))
        (event,) = self.market.events.BidCommitted().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["index"])

    def reveal_bid(self, job_id: int, index: int, price: int, salt: bytes) -> None:
        self.chain.transact(self.market.functions.revealBid(job_id, index, price, salt))

    def settle(self, job_id: int) -> None:
        self.chain.transact(self.market.functions.settleAuction(job_id))

    def release_bid(self, job_id: int, index: int) -> int:
        """Release a bid that did not win (anyone may; the stake goes to its bidder); return the wei unlocked."""
        receipt = self.chain.transact(self.market.functions.releaseBid(job_id, index), label="releaseBid")
        (event,) = self.market.events.BidReleased().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["unlocked"])

    def commit_trace(self, job_id: int, state_root: bytes, interior_root: bytes, checkpoint_cid: str) -> None:
        """Append the next window's leaf (the market computes the trace root)."""
        self.chain.transact(self.market.functions.commitTrace(job_id, state_root, interior_root, checkpoint_cid))

    def submit_result(self, job_id: int, model_cid: str) -> None:
        self.chain.transact(self.market.functions.submitResult(job_id, model_cid))

    # -- anyone ---------------------------------------------------------------------------------------------
    def finalize(self, job_id: int) -> None:
        self.chain.transact(self.market.functions.finalize(job_id))

    def timeout_training(self, job_id: int) -> None:
        self.chain.transact(self.market.functions.timeoutTraining(job_id))

    def claim(self) -> int:
        """Claim credits in both contracts; return the wei claimed."""
        me = self.chain.address
        total = 0
        for contract in (self.market, self.staking):
            owed = int(self.chain.call(contract.functions.credits(me)))
            if owed:
                self.chain.transact(
                    contract.functions.claimCredit(),
                    label=f"claimCredit ({'market' if contract is self.market else 'staking'})",
                )
                total += owed
        return total

    # -- staking --------------------------------------------------------------------------------------------
    def deposit(self, amount: int) -> None:
        self.chain.transact(self.staking.functions.deposit(), value=amount)

    def request_withdrawal(self, amount: int) -> None:
        self.chain.transact(self.staking.functions.requestWithdrawal(amount))

    def withdraw(self) -> None:
        self.chain.transact(self.staking.functions.withdraw())
