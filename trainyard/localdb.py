"""The one way agents open their local SQLite state: WAL, full sync, schema applied."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_db(path: str | Path, schema: str) -> sqlite3.Connection:
    """A connection in autocommit mode (every statement is durable before the agent acts on it)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db
