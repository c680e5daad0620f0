"""Money is conserved whatever anyone does, in any order.

A hypothesis RuleBasedStateMachine drives Staking and JobMarket on Anvil with random deposits, withdrawal requests
and withdrawals, posts, cancels, sealed bids, reveals (honest, wrong, void), settlements, bid releases, trace
commits, results, finalizations, training timeouts, disputes and claims, with the clock moved at random; and an
attacker: a contract (contracts/test/Attacker.sol) that batches many commits and void reveals in one transaction and
tries to release a bid twice, another's bid, or the winner's. After every step:

- Staking's ETH balance == Σ free + Σ locked + Σ unbonding + Σ credits + burned (and each account's views match a
  model kept here);
- JobMarket's ETH balance == Σ escrow still held for open jobs + Σ credits;
- every claim and withdrawal pays exactly what the model says is owed, and nothing more can be taken;
- each account's free, locked (and locked by the market) stake and credits are what the rules give it, honest
  bidders and the attacker alike, so no honest bidder is ever worse off than the rules say.
"""

import brownie
from brownie import web3
from conftest import CORE, ETH, INTERIOR, REVEAL_PENALTY_BPS, SLASH_REWARD_BPS, commitment, salt
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from web3.exceptions import ContractCustomError, ContractLogicError

BPS = 10_000
OPEN, CANCELLED, REFUNDED, FINALIZED, SLASHED = range(5)
BIDDING, AWAITING = 1, 3  # JobState
STAKE = ETH // 2

actor = st.integers(min_value=0, max_value=4)
# bid prices around the 0.5 ETH maximum of the jobs posted here: void (0, above), valid, ties
prices = st.lists(st.sampled_from([0, 1, ETH // 10, ETH // 5, ETH // 5, ETH // 4, ETH // 2, ETH // 2 + 1]), max_size=4)
# how far a round goes: 0 bids, 1 reveals, 2 settles, 3 trains, 4 times out, 5 finalizes, 6 disputes
stages = st.integers(min_value=0, max_value=6)
job_pick = st.integers(min_value=0, max_value=10**6)
amount = st.integers(min_value=1, max_value=3 * ETH)


def _bal(addr):
    return web3.eth.get_balance(str(addr))


class Reverted(Exception):
    """A transaction the contract refused."""


class _Sent:
    """What the rules need of a mined transaction: its gas cost."""

    def __init__(self, gas_used, gas_price):
        self.gas_used, self.gas_price = gas_used, gas_price


class _Web3Contract:
    """brownie's calling style (`c.fn(*args, {"from": a, "value": v})`) over plain web3.py.

    brownie 1.22's confirmation loop can report a transaction that Anvil mined as "dropped" (it reads the sender's
    nonce before the receipt is served), which made this long test flaky; web3.py sends and waits for the receipt
    without that race. A revert raises :class:`Reverted`.
    """

    def __init__(self, contract):
        self._c = contract

    def __str__(self):
        return self._c.address

    def encode(self, name, *args):
        """Calldata of `name(*args)`: one call of an attacker's batch."""
        return self._c.encode_abi(name, args=[str(a) if hasattr(a, "address") else a for a in args])

    def __getattr__(self, name):
        fn = getattr(self._c.functions, name)

        def invoke(*args):
            if args and isinstance(args[-1], dict):
                opts, args = args[-1], [str(a) if hasattr(a, "address") else a for a in args[:-1]]
                try:
                    tx_hash = fn(*args).transact({"from": str(opts["from"]), "value": opts.get("value", 0)})
                except (ContractLogicError, ContractCustomError) as exc:
                    raise Reverted(str(exc)) from None
                except ValueError as exc:  # brownie's web3 reports node errors as ValueError
                    if "revert" not in str(exc):
                        raise
                    raise Reverted(str(exc)) from None
                receipt = web3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
                if receipt["status"] != 1:
                    raise Reverted(name)
                return _Sent(receipt["gasUsed"], receipt["effectiveGasPrice"])
            args = [str(a) if hasattr(a, "address") else a for a in args]
            out = fn(*args).call()
            outputs = fn(*args).abi["outputs"]
            if len(outputs) == 1 and outputs[0]["type"] == "tuple":
                return {c["name"]: v for c, v in zip(outputs[0]["components"], out, strict=True)}
            return out

        return invoke


def _deploy(container, *args, sender):
    factory = web3.eth.contract(abi=container.abi, bytecode=container.bytecode)
    receipt = web3.eth.wait_for_transaction_receipt(factory.constructor(*args).transact({"from": str(sender)}))
    return _Web3Contract(web3.eth.contract(address=receipt["contractAddress"], abi=container.abi))


class Money(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.chain = brownie.chain

    @initialize(rounds=st.lists(st.tuples(actor, prices, st.integers(min_value=0, max_value=6), stages, st.booleans()),
                                min_size=1, max_size=3))
    def setup(self, rounds):
        # fresh contracts for every example (the contract classes and accounts are set on the class by the test)
        owner = self.owner
        self.staking = _deploy(self.Staking, 7 * 24 * 3600, sender=owner)
        self.market = _deploy(self.JobMarket, str(self.staking), self.one_step, REVEAL_PENALTY_BPS, SLASH_REWARD_BPS,
                              sender=owner)
        self.staking.wire([str(self.market)], {"from": owner})
        self.market.setDisputeGame(self.game, {"from": owner})
        self.attacker = _deploy(self.Attacker, sender=self.attacker_owner)
        self.atk = str(self.attacker)
        everyone = [*self.people, self.atk]
        self.free = dict.fromkeys(everyone, 0)
        self.locked = dict.fromkeys(everyone, 0)
        self.unbonding = dict.fromkeys(everyone, 0)
        self.s_credit = dict.fromkeys([*everyone, self.game], 0)
        self.m_credit = dict.fromkeys([*everyone, self.game], 0)
        self.burned = 0
        # dicts: submitter, max, bids [{bidder, price, salt, revealed}], settled, winner, price, outcome, leaves,
        # result, disputes
        self.jobs = []
        # start from a market with stake and jobs, so that short random sequences already reach the later phases
        for n in range(len(self.people)):
            self.deposit(n, 2 * ETH)
        for who, prices, skip, stage, attack in rounds:
            self.round(who, prices, skip, stage, attack)

    # -- helpers --------------------------------------------------------------------------------------------
    def _pick(self, i):
        return self.jobs[i % len(self.jobs)] if self.jobs else None

    def _try(self, fn, *args):
        try:
            return fn(*args)
        except Reverted:
            return None

    def _state(self, idx):
        return self.market.state(idx + 1)

    # -- staking --------------------------------------------------------------------------------------------
    @rule(who=actor, value=amount)
    def deposit(self, who, value):
        a = self.people[who]
        self.staking.deposit({"from": a, "value": value})
        self.free[a] += value

    @rule(who=actor, value=amount)
    def request_withdrawal(self, who, value):
        a = self.people[who]
        if self._try(self.staking.requestWithdrawal, value, {"from": a}) is not None:
            assert value <= self.free[a]
            self.free[a] -= value
            self.unbonding[a] += value
        else:
            assert value > self.free[a]

    @rule(who=actor)
    def withdraw(self, who):
        a = self.people[who]
        before = _bal(a)
        tx = self._try(self.staking.withdraw, {"from": a})
        if tx is not None:
            assert _bal(a) - before + tx.gas_used * tx.gas_price == self.unbonding[a]
            self.unbonding[a] = 0

    @rule(who=actor)
    def claim(self, who):
        a = self.people[who]
        for contract, credit in ((self.staking, self.s_credit), (self.market, self.m_credit)):
            before = _bal(a)
            tx = self._try(contract.claimCredit, {"from": a})
            if tx is not None:
                assert _bal(a) - before + tx.gas_used * tx.gas_price == credit[a]
                credit[a] = 0
            else:
                assert credit[a] == 0

    # -- market ---------------------------------------------------------------------------------------------
    # a job is posted only with stakePerBid >= its maximum price
    @rule(who=actor, price=st.integers(min_value=1, max_value=STAKE))
    def post(self, who, price):
        a = self.people[who]
        self.market.postJob(CORE, "spec", (STAKE, 2, 600, 600, 6000, 600), {"from": a, "value": price})
        self.jobs.append(
            {
                "id": len(self.jobs) + 1,
                "submitter": a,
                "max": price,
                "bids": [],
                "settled": False,
                "winner": None,
                "price": 0,
                "outcome": OPEN,
                "leaves": 0,
                "result": False,
                "disputes": 0,
            }
        )

    @rule(i=job_pick)
    def cancel(self, i):
        j = self._pick(i)
        if j is None:
            return
        idx = j["id"] - 1
        if self._try(self.market.cancelJob, idx + 1, {"from": j["submitter"]}) is not None:
            assert not j["bids"] and j["outcome"] == OPEN
            j["outcome"] = CANCELLED
            self.m_credit[j["submitter"]] += j["max"]

    @rule(i=job_pick, who=actor, price=st.integers(min_value=0, max_value=ETH))
    def commit_bid(self, i, who, price):
        j = self._pick(i)
        if j is None:
            return
        idx, a = j["id"] - 1, self.people[who]
        s = salt(len(j["bids"]) % 200)
        if self._try(self.market.commitBid, idx + 1, commitment(idx + 1, a, price, s), {"from": a}) is not None:
            assert self.free[a] >= STAKE and a != j["submitter"]
            self.free[a] -= STAKE
            self.locked[a] += STAKE
            j["bids"].append({"bidder": a, "price": price, "salt": s, "revealed": False, "released": False})

    @rule(i=job_pick, k=st.integers(min_value=0, max_value=20), honest=st.booleans())
    def reveal(self, i, k, honest):
        j = self._pick(i)
        if j is None or not j["bids"]:
            return
        idx, n = j["id"] - 1, k % len(j["bids"])
        b = j["bids"][n]
        if b["bidder"] == self.atk:  # the attacker's bids are revealed by its own batches
            return
        price = b["price"] if honest else b["price"] + 1
        if self._try(self.market.revealBid, idx + 1, n, price, b["salt"], {"from": b["bidder"]}) is not None:
            assert honest and not b["revealed"]
            b["revealed"] = True

    def _settle_model(self, j):
        j["settled"] = True
        valid = [(b["price"], n) for n, b in enumerate(j["bids"]) if b["revealed"] and 0 < b["price"] <= j["max"]]
        valid.sort()
        if valid:
            j["winner"] = valid[0][1]
            j["price"] = valid[1][0] if len(valid) > 1 else valid[0][0]
        else:
            j["outcome"] = REFUNDED
        self.m_credit[j["submitter"]] += j["max"] - j["price"]  # no bid is touched: each is released on its own

    def _release_model(self, j, n):
        """Bid n of job j is released: its stake back to its bidder, less the penalty if unrevealed or void."""
        b = j["bids"][n]
        b["released"] = True
        a = b["bidder"]
        self.locked[a] -= STAKE
        if b["revealed"] and 0 < b["price"] <= j["max"]:
            self.free[a] += STAKE
        else:  # never revealed: the whole stake, burned; void: the reveal penalty, its reward share to the submitter
            penalty = STAKE * REVEAL_PENALTY_BPS // BPS if b["revealed"] else STAKE
            reward = penalty * SLASH_REWARD_BPS // BPS if b["revealed"] else 0
            self.s_credit[j["submitter"]] += reward
            self.burned += penalty - reward
            self.free[a] += STAKE - penalty

    def _releasable(self, j, n):
        return j["settled"] and n != j["winner"] and not j["bids"][n]["released"]

    def _settles_on_the_way(self, j):
        return not j["settled"] and j["outcome"] == OPEN and self._state(j["id"] - 1) == AWAITING

    @rule(i=job_pick, k=st.integers(min_value=0, max_value=40), who=actor)
    def release(self, i, k, who):
        """Anyone releases a bid (settling the auction on the way); only its bidder is paid."""
        j = self._pick(i)
        if j is None or not j["bids"]:
            return
        n = k % len(j["bids"])
        settles = self._settles_on_the_way(j)
        if self._try(self.market.releaseBid, j["id"], n, {"from": self.people[who]}) is not None:
            if settles:
                self._settle_model(j)
            assert self._releasable(j, n)
            self._release_model(j, n)
            self.hits["release"] += 1
        elif settles:  # the release reverted, and the settlement with it: only the winner's bid is refused
            assert n == self._would_win(j)
        else:
            assert not self._releasable(j, n)

    def _would_win(self, j):
        valid = sorted((b["price"], n) for n, b in enumerate(j["bids"]) if b["revealed"] and 0 < b["price"] <= j["max"])
        return valid[0][1] if valid else None

    # -- the attacker: a contract batching calls atomically -------------------------------------------------------
    def _batch(self, calls, value=0):
        return self._try(self.attacker.batch, [(str(self.market) if t is None else str(t), 0, d) for t, d in calls],
                         {"from": self.attacker_owner, "value": value})

    @rule(i=job_pick, n=st.integers(min_value=1, max_value=20))
    def attacker_jams(self, i, n):
        """n sealed bids at price 0 from one contract in one transaction, its stake deposited in the same batch."""
        j = self._pick(i)
        if j is None:
            return
        first = len(j["bids"])
        salts = [salt((first + k) % 200) for k in range(n)]
        deposit = [(str(self.staking), n * STAKE, self.staking.encode("deposit"))]
        bids = [(str(self.market), 0, self.market.encode("commitBid", j["id"], commitment(j["id"], self.atk, 0, s)))
                for s in salts]
        bidding = self._state(j["id"] - 1) == BIDDING
        if (
            self._try(self.attacker.batch, deposit + bids, {"from": self.attacker_owner, "value": n * STAKE})
            is not None
        ):
            assert bidding
            self.locked[self.atk] += n * STAKE  # deposited and locked in the same batch: free is unchanged
            self.hits["attacker_jams"] += 1
            j["bids"] += [
                {"bidder": self.atk, "price": 0, "salt": s, "revealed": False, "released": False} for s in salts
            ]

    @rule(i=job_pick)
    def attacker_reveals_void(self, i):
        """Every unrevealed attacker bid of a job revealed at price 0 in one batch."""
        j = self._pick(i)
        if j is None:
            return
        mine = [n for n, b in enumerate(j["bids"]) if b["bidder"] == self.atk and not b["revealed"]]
        if not mine:
            return
        calls = [(None, self.market.encode("revealBid", j["id"], n, 0, j["bids"][n]["salt"])) for n in mine]
        if self._batch(calls) is not None:
            for n in mine:
                j["bids"][n]["revealed"] = True
            self.hits["attacker_reveals_void"] += 1

    @rule(i=job_pick, k=st.integers(min_value=0, max_value=40), twice=st.booleans(), winner=st.booleans())
    def attacker_releases(self, i, k, twice, winner):
        """Release any bid (its own or another's), the same one twice in one batch, or the winner's."""
        j = self._pick(i)
        if j is None or not j["bids"]:
            return
        n = j["winner"] if winner and j["winner"] is not None else k % len(j["bids"])
        settles = self._settles_on_the_way(j)
        calls = [(None, self.market.encode("releaseBid", j["id"], n))] * (2 if twice else 1)
        if self._batch(calls) is not None:
            assert not twice
            if settles:
                self._settle_model(j)
            assert self._releasable(j, n)
            self._release_model(j, n)
            self.hits["attacker_releases"] += 1
        else:
            self.hits["attacker_refused"] += 1

    def _slash_winner(self, j, beneficiary):
        a = j["bids"][j["winner"]]["bidder"]
        reward = STAKE * SLASH_REWARD_BPS // BPS
        self.locked[a] -= STAKE
        self.s_credit[beneficiary] += reward
        self.burned += STAKE - reward
        self.m_credit[j["submitter"]] += j["price"]
        j["outcome"] = SLASHED

    @rule(i=job_pick, who=actor)
    def settle(self, i, who):
        j = self._pick(i)
        if j is None:
            return
        idx = j["id"] - 1
        if self._try(self.market.settleAuction, idx + 1, {"from": self.people[who]}) is not None:
            assert not j["settled"]
            self._settle_model(j)

    @rule(i=job_pick)
    def commit_trace(self, i):
        j = self._pick(i)
        if j is None or not j["bids"]:
            return
        idx = j["id"] - 1
        was_settled = j["settled"]
        winner_guess = j["bids"][j["winner"]]["bidder"] if j["winner"] is not None else None
        sender = winner_guess or self.market.job(idx + 1)["winner"]
        if int(str(sender), 16) == 0:
            sender = j["bids"][0]["bidder"] if j["bids"][0]["bidder"] != self.atk else self.people[0]
        if self._try(self.market.commitTrace, idx + 1, b"\x07" * 32, INTERIOR, "c", {"from": sender}) is not None:
            if not was_settled:
                self._settle_model(j)
            j["leaves"] += 1

    @rule(i=job_pick)
    def submit_result(self, i):
        j = self._pick(i)
        if j is None or j["winner"] is None:
            return
        idx = j["id"] - 1
        if self._try(self.market.submitResult, idx + 1, "c", {"from": j["bids"][j["winner"]]["bidder"]}) is not None:
            j["result"] = True

    @rule(i=job_pick, who=actor)
    def finalize(self, i, who):
        j = self._pick(i)
        if j is None:
            return
        idx = j["id"] - 1
        if self._try(self.market.finalize, idx + 1, {"from": self.people[who]}) is not None:
            assert j["result"] and j["disputes"] == 0 and j["outcome"] == OPEN
            j["outcome"] = FINALIZED
            a = j["bids"][j["winner"]]["bidder"]
            self.m_credit[a] += j["price"]
            self.locked[a] -= STAKE
            self.free[a] += STAKE

    @rule(i=job_pick, who=actor)
    def timeout_training(self, i, who):
        j = self._pick(i)
        if j is None:
            return
        idx = j["id"] - 1
        was_settled = j["settled"]
        if self._try(self.market.timeoutTraining, idx + 1, {"from": self.people[who]}) is not None:
            if not was_settled:
                self._settle_model(j)
            assert not j["result"]
            self._slash_winner(j, j["submitter"])

    @rule(i=job_pick)
    def open_dispute(self, i):
        j = self._pick(i)
        if j is None:
            return
        idx = j["id"] - 1
        if self._try(self.market.openDispute, idx + 1, {"from": self.game}) is not None:
            j["disputes"] += 1

    @rule(i=job_pick, lost=st.booleans(), proof=st.booleans(), who=actor)
    def resolve_dispute(self, i, lost, proof, who):
        j = self._pick(i)
        if j is None:
            return
        idx = j["id"] - 1
        challenger = self.people[who]
        if self._try(self.market.resolveDispute, idx + 1, lost, proof, challenger, {"from": self.game}) is not None:
            j["disputes"] -= 1
            if lost and j["outcome"] == OPEN:
                # a loss on time before a result compensates the submitter, as a training timeout would
                self._slash_winner(j, challenger if proof or j["result"] else j["submitter"])

    @rule(seconds=st.sampled_from([1, 300, 600, 6000, 10**6]))
    def sleep(self, seconds):
        self.chain.sleep(seconds)
        self.chain.mine()

    @rule(i=job_pick, deadline=st.sampled_from(["bidDeadline", "revealDeadline", "trainDeadline", "resultAt"]))
    def sleep_past(self, i, deadline):
        """Move the clock just past one of a job's deadlines (the end of the challenge period for resultAt)."""
        j = self._pick(i)
        if j is None:
            return
        t = self.market.job(j["id"])[deadline]
        if deadline == "resultAt":
            t = t + 600 if t else 0
        now = self.chain.time()
        if t >= now:
            self.chain.sleep(t - now + 1)
            self.chain.mine()

    @rule(i=job_pick, skip=st.integers(min_value=0, max_value=6))
    def reveal_all(self, i, skip):
        """Every bidder of a job reveals honestly, except the one at index `skip` (if there is one)."""
        j = self._pick(i)
        if j is None:
            return
        for n in range(len(j["bids"])):
            if n != skip:
                self.reveal(i, n, True)

    @rule(who=actor, prices=prices, skip=st.integers(min_value=0, max_value=6), stage=stages, attack=st.booleans())
    def round(self, who, prices, skip, stage, attack):
        """A job posted and taken through its auction to a random stage: bids (and, if `attack`, the attacker's
        batch of void bids), reveals (all but `skip`; the attacker's in one batch), settlement, releases (the
        attacker also trying a double release and the winner's) and training; the fine-grained rules interleave
        with it."""
        self.post(who, ETH // 2)
        i = len(self.jobs) - 1
        for n, price in enumerate(prices):
            self.commit_bid(i, (who + 1 + n) % len(self.people), price)
        if attack:
            self.attacker_jams(i, 1 + who)
        if stage >= 1:
            self.sleep_past(i, "bidDeadline")
            self.reveal_all(i, skip)
            if attack and who % 2 == 0:  # otherwise its bids stay unrevealed
                self.attacker_reveals_void(i)
        if stage >= 2:
            self.sleep_past(i, "revealDeadline")
            self.settle(i, who)
            n = len(self.jobs[i]["bids"])
            if attack:
                self.attacker_releases(i, n - 1, False, False)  # its own last bid: released, with the penalty
                self.attacker_releases(i, n - 1, False, False)  # again: refused
                self.attacker_releases(i, 0, True, True)  # the winner's, twice in a batch: refused
            for k in range(n):
                self.release(i, k, who)
        if stage >= 3:
            self.train(i, stage != 4)
        if stage == 4:  # the winner never delivers
            self.sleep_past(i, "trainDeadline")
            self.timeout_training(i, who)
        if stage == 5:
            self.sleep_past(i, "resultAt")
            self.finalize(i, who)
        if stage == 6:
            self.open_dispute(i)
            self.resolve_dispute(i, who % 2 == 0, who % 3 == 0, (who + 2) % len(self.people))

    @rule(i=job_pick, submit=st.booleans())
    def train(self, i, submit):
        """The winner (if any) commits every remaining window, and maybe its result."""
        j = self._pick(i)
        if j is None:
            return
        for _ in range(2):
            self.commit_trace(i)
        if submit:
            self.submit_result(i)

    # -- invariants -----------------------------------------------------------------------------------------
    @invariant()
    def staking_balance_is_every_pool(self):
        if not hasattr(self, "free"):
            return
        pools = sum(self.free.values()) + sum(self.locked.values()) + sum(self.unbonding.values())
        assert _bal(self.staking) == pools + sum(self.s_credit.values()) + self.burned
        assert self.staking.totalBurned() == self.burned
        for a in [*self.people, self.atk]:
            assert self.staking.freeStake(a) == self.free[a]
            assert self.staking.lockedStake(a) == self.locked[a]
            assert self.staking.lockedBy(self.market, a) == self.locked[a]  # the market is the only locker here
            assert self.staking.credits(a) == self.s_credit[a]

    @invariant()
    def market_balance_is_escrow_plus_credits(self):
        if not hasattr(self, "free"):
            return
        escrow = 0
        for j in self.jobs:
            if j["outcome"] == OPEN:
                escrow += j["price"] if j["settled"] else j["max"]
        assert _bal(self.market) == escrow + sum(self.m_credit.values())
        for a in [*self.people, self.atk]:
            assert self.market.credits(a) == self.m_credit[a]


def test_money_is_conserved(Staking, JobMarket, Attacker, one_step, accounts, game):
    Money.Staking, Money.JobMarket, Money.Attacker = Staking, JobMarket, Attacker
    Money.one_step = str(one_step.address)  # stateless: one for every example
    Money.attacker_owner = accounts[6]
    Money.owner = accounts[0]
    Money.people = list(accounts[1:6])
    Money.game = game
    Money.TestCase.settings = settings(
        max_examples=50, stateful_step_count=25, deadline=None, database=None, derandomize=True
    )
    brownie.chain.mine()
    from hypothesis.stateful import run_state_machine_as_test

    Money.hits = dict.fromkeys(
        ("release", "attacker_jams", "attacker_reveals_void", "attacker_releases", "attacker_refused"), 0
    )
    run_state_machine_as_test(Money, settings=Money.TestCase.settings)
    print("release paths taken:", Money.hits)
    assert all(Money.hits.values()), Money.hits  # every release path was taken, not only refused
