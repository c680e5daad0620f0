"""A challenger's local state in SQLite (WAL): the windows it checked and the games it opened, so a restarted
challenger neither re-opens a game nor forgets one (the games themselves are on chain)."""

from __future__ import annotations

from pathlib import Path

from trainyard.localdb import open_db

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checked (job_id INTEGER NOT NULL, window INTEGER NOT NULL, ok INTEGER NOT NULL,
                                    PRIMARY KEY (job_id, window));
CREATE TABLE IF NOT EXISTS games (game_id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, window INTEGER NOT NULL);
"""


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

    def record_game(self, game_id: int, job_id: int, window: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO games VALUES (?, ?, ?)", (game_id, job_id, window))

    def games(self) -> list[tuple[int, int, int]]:
        return [tuple(map(int, r)) for r in self.db.execute("SELECT game_id, job_id, window FROM games ORDER BY game_id")]  # type: ignore[misc]
