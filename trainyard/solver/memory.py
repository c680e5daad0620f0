"""The solver's local state in SQLite (WAL): written before it acts, so a restarted solver can still reveal
its sealed bids (the salts exist nowhere else) and resume training from its last checkpoint."""

from __future__ import annotations

from pathlib import Path

from trainyard.localdb import open_db
from trainyard.solver.logic import BidRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bids (job_id INTEGER PRIMARY KEY, price TEXT NOT NULL, salt BLOB NOT NULL,
                                 idx INTEGER NOT NULL DEFAULT -1, revealed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS released (job_id INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS inspected (job_id INTEGER PRIMARY KEY, reason TEXT);
CREATE TABLE IF NOT EXISTS checkpoints (job_id INTEGER NOT NULL, window INTEGER NOT NULL, step INTEGER NOT NULL,
                                        state_root BLOB NOT NULL, cid TEXT NOT NULL, PRIMARY KEY (job_id, window));
CREATE TABLE IF NOT EXISTS results (job_id INTEGER PRIMARY KEY, model_cid TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS interiors (job_id INTEGER NOT NULL, window INTEGER NOT NULL, root BLOB NOT NULL,
                                      PRIMARY KEY (job_id, window));
"""


class SolverMemory:
    def __init__(self, path: str | Path) -> None:
        self.db = open_db(path, _SCHEMA)

    def close(self) -> None:
        self.db.close()

    # bids --------------------------------------------------------------------------------------------------
    def record_bid(self, bid: BidRecord) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO bids (job_id, price, salt, idx, revealed) VALUES (?, ?, ?, ?, ?)",
            (bid.job_id, str(bid.price), bid.salt, bid.index, int(bid.revealed)),
        )

    def set_bid_index(self, job_id: int, index: int) -> None:
        self.db.execute("UPDATE bids SET idx = ? WHERE job_id = ?", (index, job_id))

    def forget_bid(self, job_id: int) -> None:
        self.db.execute("DELETE FROM bids WHERE job_id = ?", (job_id,))

    def mark_revealed(self, job_id: int) -> None:
        self.db.execute("UPDATE bids SET revealed = 1 WHERE job_id = ?", (job_id,))

    def mark_released(self, job_id: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO released (job_id) VALUES (?)", (job_id,))

    def bids(self) -> dict[int, BidRecord]:
        rows = self.db.execute(
            "SELECT b.job_id, b.price, b.salt, b.idx, b.revealed, r.job_id IS NOT NULL FROM bids b "
            "LEFT JOIN released r ON r.job_id = b.job_id"
        ).fetchall()
        return {r[0]: BidRecord(r[0], int(r[1]), bytes(r[2]), r[3], bool(r[4]), bool(r[5])) for r in rows}

    # inspections -------------------------------------------------------------------------------------------
    def record_inspection(self, job_id: int, reason: str | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO inspected (job_id, reason) VALUES (?, ?)", (job_id, reason))

    def inspected(self) -> dict[int, str | None]:
        return {r[0]: r[1] for r in self.db.execute("SELECT job_id, reason FROM inspected")}

    # training ----------------------------------------------------------------------------------------------
    def record_checkpoint(self, job_id: int, window: int, step: int, state_root: bytes, cid: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO checkpoints (job_id, window, step, state_root, cid) VALUES (?, ?, ?, ?, ?)",
            (job_id, window, step, state_root, cid),
        )

    def checkpoints(self, job_id: int) -> list[tuple[int, bytes, str]]:
        """(step, state_root, cid) of each trained window, in order."""
        rows = self.db.execute(
            "SELECT step, state_root, cid FROM checkpoints WHERE job_id = ? ORDER BY window", (job_id,)
        ).fetchall()
        return [(r[0], bytes(r[1]), r[2]) for r in rows]

    def record_interior(self, job_id: int, window: int, root: bytes) -> None:
        """The root of a window's interior digests; recorded before its checkpoint, committed with it."""
        self.db.execute("INSERT OR REPLACE INTO interiors VALUES (?, ?, ?)", (job_id, window, root))

    def interior(self, job_id: int, window: int) -> bytes | None:
        row = self.db.execute("SELECT root FROM interiors WHERE job_id = ? AND window = ?", (job_id, window)).fetchone()
        return bytes(row[0]) if row else None

    def record_result(self, job_id: int, model_cid: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO results (job_id, model_cid) VALUES (?, ?)", (job_id, model_cid))
