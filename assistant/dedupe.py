"""Syndicated copies: the same story republished by other sites, found while indexing.

Exact copies (same cleaned body) are dropped by the indexer before they get here. Near copies —
small edits, other boilerplate, a different headline — are found with MinHash LSH (datasketch)
over word 5-gram shingles, streaming: each article is compared with the ones already seen. A
story's *original* is the copy whose publisher another copy credits ("(c) 2016, The Washington
Post"), else the earliest dated, else the first seen. Retrieval returns one hit per story and
lists the other publishers as "also published by".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from datasketch import MinHash, MinHashLSH

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
    def __init__(self, threshold: float = THRESHOLD, num_perm: int = NUM_PERM) -> None:
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._num_perm = num_perm
        self._parent: dict[str, str] = {}
        self._info: dict[str, _Member] = {}

    def add(self, article: Article) -> str | None:
        """Register ``article``; returns the id of an earlier copy of the same story, if any."""
        sh = shingles(article.body)
        if len(sh) < MIN_SHINGLES:
            return None
        mh = MinHash(num_perm=self._num_perm)
        mh.update_batch([s.encode("utf-8") for s in sh])
        matches = sorted(self._lsh.query(mh), key=lambda m: self._info[m].order)
        self._info[article.id] = _Member(article.id, article.publisher, article.credit, article.date_key, len(self._info))
        self._lsh.insert(article.id, mh)
        if not matches:
            return None
        root = self._root(matches[0])
        for other in matches[1:]:
            other_root = self._root(other)
            if other_root != root:  # already one story: linking a root to itself would loop forever
                self._parent[other_root] = root
        self._parent[article.id] = root
        return matches[0]

    def _root(self, article_id: str) -> str:
        while article_id in self._parent:
            article_id = self._parent[article_id]
        return article_id

    def groups(self) -> StoryGroups:
        clusters: dict[str, list[_Member]] = {}
        for article_id in self._parent:
            root = self._root(article_id)
            clusters.setdefault(root, [self._info[root]])
            clusters[root].append(self._info[article_id])
        members = {}
        for cluster in clusters.values():
            ordered = sorted(cluster, key=lambda m: _original_rank(m, cluster))
            members[ordered[0].id] = [m.id for m in ordered]
        return StoryGroups(members)


def _original_rank(member: _Member, cluster: list[_Member]) -> tuple[int, int, int]:
    credited = {(m.credit or "").lower() for m in cluster if m.credit}
    is_credited = bool(member.publisher) and (member.publisher or "").lower() in credited
    return (0 if is_credited else 1, member.date_key or 99999999, member.order)
