"""A key -> blob store in one SQLite file per *namespace*, shared by the embed and enrich caches.

A namespace says what produced the values (model and revision, spaCy pipeline and parameters);
the file records it and refuses to be opened for another one, so values of two producers are
never mixed. Keys are sha256 hex digests of the input text (:func:`text_hash`).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["BlobCache", "text_hash"]


def text_hash(text: str) -> str:
    """sha256 of ``text`` (UTF-8), 64 hex characters."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class BlobCache:
    """``<cache_dir>/<slug>-<hash>.sqlite``, table ``<table>(hash, <column>)``, for one namespace.

    Open with :meth:`connect` (creates the file), read with :meth:`get`, write with :meth:`put`
    (one transaction per call: all rows land or none). WAL mode, so readers never block a writer.
    """

    def __init__(
        self, cache_dir: Path | str, namespace: str, table: str = "entries", column: str = "value"
    ) -> None:
        if not (re.fullmatch(r"[a-z_]+", table) and re.fullmatch(r"[a-z_]+", column)):
            raise ValueError(f"bad table or column name {table!r}, {column!r}")
        self.cache_dir = Path(cache_dir)
        self.namespace = namespace
        self.table = table
        self.column = column
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", namespace)[:60]
        self.path = self.cache_dir / f"{slug}-{text_hash(namespace)[:12]}.sqlite"

    def connect(self) -> sqlite3.Connection:
        """An open connection; raises ValueError if the file belongs to another namespace."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=60)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (hash TEXT PRIMARY KEY, {self.column} BLOB)"
        )
        # The file was first written under the key "model_id" (embedding caches): keep reading it.
        row = conn.execute("SELECT value FROM meta WHERE key = 'model_id'").fetchone()
        if row is None:
            with conn:
                conn.execute("INSERT INTO meta VALUES ('model_id', ?)", (self.namespace,))
        elif row[0] != self.namespace:
            conn.close()
            raise ValueError(f"{self.path} holds values of {row[0]!r}, not {self.namespace!r}")
        return conn

    def get(self, conn: sqlite3.Connection, hashes: Sequence[str]) -> dict[str, bytes]:
        """The stored values of those ``hashes`` that are present."""
        found: dict[str, bytes] = {}
        step = 900  # below SQLite's bound-parameter limit on old builds
        for i in range(0, len(hashes), step):
            part = list(hashes[i : i + step])
            marks = ",".join("?" * len(part))
            query = f"SELECT hash, {self.column} FROM {self.table} WHERE hash IN ({marks})"
            found.update(conn.execute(query, part))
        return found

    def put(self, conn: sqlite3.Connection, rows: Iterable[tuple[str, bytes]]) -> None:
        """Store ``(hash, value)`` rows in one transaction."""
        with conn:
            conn.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES (?, ?)", rows)
