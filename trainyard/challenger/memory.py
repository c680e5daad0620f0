"""A challenger's local state in SQLite (WAL): the windows it checked, the disputes it must open, the games it
opened and what it has finished with, so a restarted challenger neither re-opens a game nor forgets one (the games
themselves are on chain).

Jobs and games are numbered independently on chain (job 1 and game 1 are unrelated), so every table says which kind
of id it holds and no set mixes them."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from trainyard.localdb import open_db

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checked (job_id INTEGER NOT NULL, window INTEGER NOT NULL, ok INTEGER NOT NULL,
                                    PRIMARY KEY (job_id, window));
CREATE TABLE IF NOT EXISTS pending (job_id INTEGER PRIMARY KEY, window INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS games (game_id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, window INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS finished (kind TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (kind, id));
"""


class Kind(Enum):
    """What an id numbers."""

    JOB = "job"
    GAME = "game"


class ChallengerMemory:
    def __init__(self, path: str | Path) -> None:
        self.db = open_db(path, _SCHEMA)

    def close(self) -> None:
        self.db.close()

    def record_check(self, job_id: int, window: int, ok: bool) -> None:
        self.db.execute("INSERT OR REPLACE INTO checked VALUES (?, ?, ?)", (job_id, window, int(ok)))

    def checked(self, job_id: int) -> dict[int, bool]:
        rows = self.db.execute("SELECT window, ok FROM checked WHERE job_id = ?", (job_id,)).fetchall()
        return {int(w): bool(ok) for w, ok in rows}

    def record_pending(self, job_id: int, window: int) -> None:
        """A wrong window whose game is not open yet: the dispute is retried until it is."""
        self.db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?)", (job_id, window))

    def pending(self, job_id: int) -> int | None:
        row = self.db.execute("SELECT window FROM pending WHERE job_id = ?", (job_id,)).fetchone()
        return None if row is None else int(row[0])

    def record_game(self, game_id: int, job_id: int, window: int) -> None:
        """A game this challenger opened (it settles the job's pending dispute)."""
        self.db.execute("INSERT OR REPLACE INTO games VALUES (?, ?, ?)", (game_id, job_id, window))
        self.db.execute("DELETE FROM pending WHERE job_id = ?", (job_id,))

    def games(self) -> list[tuple[int, int, int]]:
        rows = self.db.execute("SELECT game_id, job_id, window FROM games ORDER BY game_id")
        return [(int(game_id), int(job_id), int(window)) for game_id, job_id, window in rows]

    def finish(self, kind: Kind, id_: int) -> None:
        self.db.execute("INSERT OR IGNORE INTO finished VALUES (?, ?)", (kind.value, id_))

    def finished(self, kind: Kind) -> set[int]:
        return {int(r[0]) for r in self.db.execute("SELECT id FROM finished WHERE kind = ?", (kind.value,))}
