"""Syndicated copies: the same story republished by other sites, found while indexing.

Exact copies (same cleaned body) are dropped by the indexer before they get here. Near copies —
small edits, other boilerplate, a different headline — are found with MinHash LSH (datasketch)
over word 5-gram shingles, streaming: each article is compared with the ones already seen. A
story's *original* is the copy whose publisher another copy credits ("(c) 2016, The Washington
Post"), else the earliest dated, else the first seen. Retrieval returns one hit per story and
lists the other publishers as "also published by".
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .builddb import build_db
from .records import Article

SHINGLE_WORDS = 5
MIN_SHINGLES = 20  # shorter texts are too small to call copies of each other
THRESHOLD = 0.5  # estimated Jaccard similarity of shingle sets
NUM_PERM = 64


def shingles(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(max(0, len(words) - SHINGLE_WORDS + 1))}


@dataclass
class _Member:
    id: str
    publisher: str | None
    credit: str | None
    date_key: int | None
    order: int


@dataclass
class StoryGroups:
    """Multi-copy stories only: ``original`` article id → all member ids (original first)."""

    members: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.group_of = {m: original for original, ms in self.members.items() for m in ms}

    def key(self, article_id: str) -> str:
        return self.group_of.get(article_id, article_id)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.members, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> StoryGroups:
        return cls(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else cls()


class StoryGrouper:
    """Finds copies while articles stream past, keeping its state in SQLite (``path``, or memory):
    datasketch computes each article's MinHash and the LSH band layout; the band buckets, the
    members and the copy links are rows on disk, so memory does not grow with the archive."""

    def __init__(self, path: Path | str = ":memory:", threshold: float = THRESHOLD, num_perm: int = NUM_PERM) -> None:
        from datasketch import MinHashLSH  # imported by a build only: it pulls in scipy (seconds at start-up)

        layout = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._bands, self._rows = layout.b, layout.r
        self._num_perm = num_perm
        self._db = build_db(
            path,
            """
            CREATE TABLE member (ord INTEGER PRIMARY KEY, id TEXT NOT NULL, publisher TEXT, credit TEXT, date_key INTEGER);
            CREATE TABLE band (band INTEGER NOT NULL, key INTEGER NOT NULL, ord INTEGER NOT NULL);
            CREATE INDEX band_key ON band (band, key);
            CREATE TABLE parent (ord INTEGER PRIMARY KEY, parent INTEGER NOT NULL);
            """
        )
        self._count = 0

    def add(self, article: Article) -> str | None:
        """Register ``article``; returns the id of an earlier copy of the same story, if any."""
        sh = shingles(article.body)
        if len(sh) < MIN_SHINGLES:
            return None
        from datasketch import MinHash

        mh = MinHash(num_perm=self._num_perm)
        mh.update_batch([s.encode("utf-8") for s in sh])
        keys = [(b, _band_key(mh.hashvalues[b * self._rows : (b + 1) * self._rows])) for b in range(self._bands)]
        db = self._db
        matches = sorted({o for b, k in keys for (o,) in db.execute("SELECT ord FROM band WHERE band = ? AND key = ?", (b, k))})
        me = self._count
        self._count += 1
        db.execute("INSERT INTO member VALUES (?, ?, ?, ?, ?)", (me, article.id, article.publisher, article.credit, article.date_key))
        db.executemany("INSERT INTO band VALUES (?, ?, ?)", [(b, k, me) for b, k in keys])
        if not matches:
            return None
        root = self._root(matches[0])
        for other in matches[1:]:
            other_root = self._root(other)
            if other_root != root:  # already one story: linking a root to itself would loop forever
                db.execute("INSERT OR REPLACE INTO parent VALUES (?, ?)", (other_root, root))
        db.execute("INSERT OR REPLACE INTO parent VALUES (?, ?)", (me, root))
        return str(db.execute("SELECT id FROM member WHERE ord = ?", (matches[0],)).fetchone()[0])

    def _root(self, ord_: int) -> int:
        while (row := self._db.execute("SELECT parent FROM parent WHERE ord = ?", (ord_,)).fetchone()) is not None:
            ord_ = row[0]
        return ord_

    def _member(self, ord_: int) -> _Member:
        row = self._db.execute("SELECT id, publisher, credit, date_key FROM member WHERE ord = ?", (ord_,)).fetchone()
        return _Member(row[0], row[1], row[2], row[3], ord_)

    def groups(self) -> StoryGroups:
        """The stories with more than one copy (their size is the output's: only copies are held)."""
        clusters: dict[int, list[_Member]] = {}
        for (ord_,) in self._db.execute("SELECT ord FROM parent ORDER BY ord").fetchall():
            root = self._root(ord_)
            clusters.setdefault(root, [self._member(root)])
            clusters[root].append(self._member(ord_))
        members = {}
        for cluster in clusters.values():
            ordered = sorted(cluster, key=lambda m: _original_rank(m, cluster))
            members[ordered[0].id] = [m.id for m in ordered]
        return StoryGroups(members)

    def close(self) -> None:
        self._db.close()


def _band_key(values: Any) -> int:
    """A signed 64-bit key for one LSH band of MinHash values (what SQLite stores as an integer)."""
    digest = hashlib.blake2b(values.tobytes(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _original_rank(member: _Member, cluster: list[_Member]) -> tuple[int, int, int]:
    credited = {(m.credit or "").lower() for m in cluster if m.credit}
    is_credited = bool(member.publisher) and (member.publisher or "").lower() in credited
    return (0 if is_credited else 1, member.date_key or 99999999, member.order)
