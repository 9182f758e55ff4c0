"""A generation's article and chunk records on disk, read one at a time.

``articles.jsonl`` and ``chunks.jsonl`` hold one record per line. Beside them, ``*.idx`` hold the
byte offset of every line (int64, one more than there are lines), ``chunks.article`` the position
of each chunk's article (int32), and ``lookup.sqlite`` maps an article id to its position and its
run of chunks (an article's chunks are stored together, in order, so a chunk id
``<article id>#<ordinal>`` finds its row without a table of its own) and the digest of its line.

Each article's line is checked against that digest whenever it is read (``ArticleDamagedError``
when it differs), so damage that keeps the file's size — which the size check at open cannot see —
is reported before the text is quoted. Hashing one article costs a few microseconds. Tables written
before digests were recorded have no ``digest`` column and are read unchecked.

Nothing here holds the archive in memory: a build appends, a reader seeks. That keeps a rebuild
or an update over a large live index in bounded memory, and lets a server open an index at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from ..builddb import build_db
from ..errors import REBUILD_HINT, ArticleDamagedError, IndexDamagedError
from ..records import Article, Chunk

LOOKUP = "lookup.sqlite"
TABLE_FILES = ("articles.jsonl", "articles.idx", "chunks.jsonl", "chunks.idx", "chunks.article", LOOKUP)
_CACHED = 512  # records kept parsed per table (a question touches a few dozen)
DIGEST_BYTES = 16


def line_digest(line: bytes) -> bytes:
    """The digest of one stored line (SHA-256, first 16 bytes), as the lookup records it."""
    return hashlib.sha256(line).digest()[:DIGEST_BYTES]


def article_to_json(article: Article) -> dict[str, Any]:
    data = asdict(article)
    data["published"] = article.published.isoformat() if article.published else None
    return data


def article_from_json(data: dict[str, Any]) -> Article:
    published = data.get("published")
    return Article(**{**data, "published": date.fromisoformat(published) if published else None})


@dataclass(frozen=True, slots=True)
class ChunkRow:
    """A chunk as the tables store it: where it lies in its article's body (``start``:``end``) and
    which rows of the sentence tables (``sentences.*``) are its sentences (``sentence_start``:``sentence_end``)."""

    id: str
    article_id: str
    ordinal: int
    start: int
    end: int
    sentence_start: int
    sentence_end: int

    @property
    def sentences(self) -> slice:
        """The chunk's rows in the sentence tables."""
        return slice(self.sentence_start, self.sentence_end)

    def chunk(self, body: str) -> Chunk:
        """The chunk itself, its text cut from its article's ``body``."""
        return Chunk(self.article_id, self.ordinal, self.start, self.end, body[self.start : self.end])

    def to_json(self) -> dict[str, Any]:
        """The line of ``chunks.jsonl`` (keys and their order are the file format)."""
        return {"id": self.id, "article_id": self.article_id, "ordinal": self.ordinal, "start": self.start,
                "end": self.end, "s0": self.sentence_start, "s1": self.sentence_end}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChunkRow:
        return cls(data["id"], data["article_id"], data["ordinal"], data["start"], data["end"], data["s0"], data["s1"])


class TableWriter:
    """Appends articles and chunk rows; ``finish`` writes the closing offsets and the lookup."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.articles = 0
        self.chunks = 0
        self._files = {name: (directory / name).open("wb") for name in TABLE_FILES if name != LOOKUP}
        self._ends = {"articles": 0, "chunks": 0}
        self._db = build_db(
            directory / LOOKUP,
            """
            CREATE TABLE article (
                id TEXT PRIMARY KEY, pos INTEGER NOT NULL, first_chunk INTEGER NOT NULL DEFAULT -1,
                chunks INTEGER NOT NULL DEFAULT 0, publisher TEXT, author TEXT, date_key INTEGER, digest BLOB
            ) WITHOUT ROWID;
            """
        )

    def _append(self, table: str, record: dict[str, Any]) -> bytes:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        self._files[f"{table}.idx"].write(np.int64(self._ends[table]).tobytes())
        self._files[f"{table}.jsonl"].write(line)
        self._ends[table] += len(line)
        return line

    def add_article(self, article: Article) -> None:
        line = self._append("articles", article_to_json(article))
        self._db.execute(
            "INSERT INTO article (id, pos, publisher, author, date_key, digest) VALUES (?, ?, ?, ?, ?, ?)",
            (article.id, self.articles, article.publisher, article.author, article.date_key, line_digest(line)),
        )
        self.articles += 1

    def add_chunk(self, row: ChunkRow) -> None:
        """The chunk's article was added before, and its chunks come one after another, ordinals counting from 0."""
        found = self._db.execute("SELECT pos, first_chunk, chunks FROM article WHERE id = ?", (row.article_id,)).fetchone()
        if found is None or row.ordinal != found[2] or (found[1] >= 0 and found[1] + found[2] != self.chunks):
            raise ValueError(f"chunk {row.id} is out of order: an article's chunks are stored together, in order")
        self._db.execute(
            "UPDATE article SET first_chunk = ?, chunks = chunks + 1 WHERE id = ?",
            (self.chunks if found[1] < 0 else found[1], row.article_id),
        )
        self._files["chunks.article"].write(np.int32(found[0]).tobytes())
        self._append("chunks", row.to_json())
        self.chunks += 1

    def finish(self) -> None:
        for table in ("articles", "chunks"):
            self._files[f"{table}.idx"].write(np.int64(self._ends[table]).tobytes())
        for fh in self._files.values():
            fh.flush()
            os.fsync(fh.fileno())
        self.close()
        fd = os.open(self.dir / LOOKUP, os.O_RDONLY)  # written without syncs: make it durable before the manifest
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._db.close()


class _Lines:
    """Line ``i`` of a JSONL file, by the offsets beside it."""

    def __init__(self, directory: Path, table: str) -> None:
        self.path = directory / f"{table}.jsonl"
        offsets_path = directory / f"{table}.idx"
        count = offsets_path.stat().st_size // 8
        self.offsets = np.memmap(offsets_path, dtype=np.int64, mode="r") if count else np.zeros(1, dtype=np.int64)
        if count == 0 or int(self.offsets[-1]) != self.path.stat().st_size:
            raise IndexDamagedError(f"The index generation {directory.name} has a damaged file ({self.path.name} or {offsets_path.name}).")
        self._fd = os.open(self.path, os.O_RDONLY)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)

    def read(self, i: int, digest: bytes | None = None) -> dict[str, Any]:
        """Line ``i`` parsed; with ``digest``, the line must have that digest (else ``ArticleDamagedError``)."""
        if not 0 <= i < len(self):
            raise IndexError(i)
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        raw = os.pread(self._fd, end - start, start)
        if digest is not None:
            self._check(raw, digest, i + 1)
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise IndexDamagedError(
                f"The index generation {self.path.parent.name} has a damaged file: {self.path.name} line {i + 1} cannot be read."
            ) from exc
        if not isinstance(data, dict):
            raise IndexDamagedError(f"The index generation {self.path.parent.name} has a damaged file: {self.path.name} line {i + 1}.")
        return data

    def _check(self, raw: bytes, digest: bytes, number: int) -> None:
        if line_digest(raw) != digest:
            raise ArticleDamagedError(
                f"The index generation {self.path.parent.name} has a damaged file: {self.path.name} line {number} "
                f"no longer matches the digest recorded when it was written, so it is not quoted. {REBUILD_HINT}"
            )

    def stream(self, digests: Iterator[bytes | None] | None = None) -> Iterator[dict[str, Any]]:
        """Every line parsed, in order; with ``digests`` (one per line), each line is checked against its own."""
        with self.path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                digest = next(digests, None) if digests is not None else None
                if digest is not None:
                    self._check(line, digest, number)
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise IndexDamagedError(
                        f"The index generation {self.path.parent.name} has a damaged file: {self.path.name} line {number} cannot be read."
                    ) from exc


class _Lookup:
    """Article id → (position, first chunk, chunk count), one read-only connection per thread."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise IndexDamagedError(f"The index generation {path.parent.name} has no {path.name}.")
        self._uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
        self._local = threading.local()
        try:
            columns = {row[1] for row in self._db().execute("PRAGMA table_info(article)")}
        except sqlite3.DatabaseError as exc:
            raise IndexDamagedError(f"The index lookup table is damaged ({exc}).") from exc
        self.checked = "digest" in columns  # False: written before article digests were recorded
        self._digest = "digest" if self.checked else "NULL"

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self._uri, uri=True)
        return db

    def article(self, article_id: str) -> tuple[int, int, int, bytes | None] | None:
        """(position, first chunk, chunk count, digest of its line or None when unrecorded)."""
        try:
            row = self._db().execute(
                f"SELECT pos, first_chunk, chunks, {self._digest} FROM article WHERE id = ?", (article_id,)
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise IndexDamagedError(f"The index lookup table is damaged ({exc}).") from exc
        return None if row is None else (int(row[0]), int(row[1]), int(row[2]), _digest(row[3]))

    def digests(self) -> Iterator[bytes | None]:
        """The digest of every article's line, in stored order."""
        for (digest,) in self._db().execute(f"SELECT {self._digest} FROM article ORDER BY pos"):
            yield _digest(digest)

    def ids(self) -> Iterator[str]:
        for (article_id,) in self._db().execute("SELECT id FROM article ORDER BY pos"):
            yield str(article_id)

    def filter_columns(self) -> Iterator[tuple[str, str, int]]:
        """(publisher, author, date key) of every article in stored order ("" and 0 when unknown)."""
        for publisher, author, date_key in self._db().execute("SELECT publisher, author, date_key FROM article ORDER BY pos"):
            yield publisher or "", author or "", int(date_key or 0)

    def count(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM article").fetchone()[0])


def _digest(value: object) -> bytes | None:
    return bytes(value) if isinstance(value, bytes | memoryview) and len(value) == DIGEST_BYTES else None


class ArticleTable(Mapping[str, Article]):
    """The generation's articles by id, read from disk when asked for, each checked against its digest."""

    def __init__(self, directory: Path, lookup: _Lookup) -> None:
        self._lines = _Lines(directory, "articles")
        self._lookup = lookup
        self.checked = lookup.checked  # False: an index written before article digests (read unchecked)
        self._read = lru_cache(maxsize=_CACHED)(self._read_line)

    def _read_line(self, position: int, digest: bytes | None) -> Article:
        data = self._lines.read(position, digest)  # a digest that differs raises before anything is parsed
        try:
            return article_from_json(data)
        except (TypeError, KeyError, ValueError) as exc:
            raise IndexDamagedError(f"The index generation has a damaged article record (line {position + 1}).") from exc

    def __getitem__(self, article_id: str) -> Article:
        found = self._lookup.article(article_id)
        if found is None:
            raise KeyError(article_id)
        return self._read(found[0], found[3])

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self._lookup.article(article_id) is not None

    def __iter__(self) -> Iterator[str]:
        return self._lookup.ids()

    def __len__(self) -> int:
        return len(self._lines)

    def stream(self) -> Iterator[Article]:
        """Every article in stored order, read sequentially (not through the cache)."""
        for data in self._lines.stream(self._lookup.digests() if self.checked else None):
            yield article_from_json(data)

    def filter_columns(self) -> Iterator[tuple[str, str, int]]:
        """(publisher, author, date key) of every article in stored order, without reading the texts."""
        return self._lookup.filter_columns()

    def chunk_run(self, article_id: str) -> tuple[int, int]:
        """(first chunk position, chunk count) of an article; (-1, 0) for an unknown one."""
        found = self._lookup.article(article_id)
        return (-1, 0) if found is None else (found[1], found[2])


class ChunkTable:
    """The generation's chunk rows by position."""

    def __init__(self, directory: Path, articles: ArticleTable) -> None:
        self._lines = _Lines(directory, "chunks")
        self._articles = articles
        path = directory / "chunks.article"
        if path.stat().st_size != 4 * len(self._lines):
            raise IndexDamagedError(f"The index generation {directory.name} has a damaged file (chunks.article).")
        self.article_positions = (
            np.memmap(path, dtype=np.int32, mode="r") if len(self._lines) else np.zeros(0, dtype=np.int32)
        )
        self._row = lru_cache(maxsize=_CACHED * 4)(self._read)

    def _read(self, position: int) -> ChunkRow:
        return self._parse(self._lines.read(position), position + 1)

    def _parse(self, data: dict[str, Any], line: int) -> ChunkRow:
        try:
            return ChunkRow.from_json(data)
        except (TypeError, KeyError) as exc:
            raise IndexDamagedError(
                f"The index generation {self._lines.path.parent.name} has a damaged chunk record ({self._lines.path.name} line {line})."
            ) from exc

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, position: int) -> ChunkRow:
        return self._row(int(position))

    def __iter__(self) -> Iterator[ChunkRow]:
        for line, data in enumerate(self._lines.stream(), start=1):
            yield self._parse(data, line)

    def position(self, chunk_id: str) -> int:
        article_id, _, ordinal = chunk_id.rpartition("#")
        first, count = self._articles.chunk_run(article_id)
        if not ordinal.isdigit() or not 0 <= int(ordinal) < count:
            raise KeyError(chunk_id)
        return first + int(ordinal)

    def row(self, chunk_id: str) -> ChunkRow:
        row = self[self.position(chunk_id)]
        if row.id != chunk_id:
            raise IndexDamagedError(f"The index's chunk table does not match its lookup (chunk {chunk_id}).")
        return row


def open_tables(directory: Path) -> tuple[ArticleTable, ChunkTable]:
    articles = ArticleTable(directory, _Lookup(directory / LOOKUP))
    return articles, ChunkTable(directory, articles)
