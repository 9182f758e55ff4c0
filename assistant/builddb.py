"""The SQLite files a build writes: its scratch bookkeeping and a generation's article lookup."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def build_db(path: Path | str, schema: str) -> sqlite3.Connection:
    """A SQLite file written by one build: autocommit, no journal and no syncs (a failed build
    removes it with its generation; one that is kept is synced by whoever finishes it)."""
    db = sqlite3.connect(str(path), isolation_level=None)
    db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;\n" + schema)
    return db
