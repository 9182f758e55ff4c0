"""The records that flow through the pipeline: files → Article → Chunk → Hit → Quote → Answer.

Every record is frozen. Offsets are required: a Chunk and a Quote always know where in the
cleaned article body they come from, which is what makes every quote checkable.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from .errors import InputError


@dataclass(frozen=True)
class Article:
    """One cleaned article. ``body`` is the text every offset refers to."""

    id: str
    title: str
    body: str
    publisher: str | None
    author: str | None
    published: date | None  # unknown when None; ``year`` may still be known from a credit line
    year: int | None
    url: str | None
    origin: str  # the file it came from
    line: int  # 1-based line (JSONL, text) or record start line (CSV); 1 for whole-file formats
    credit: str | None = None  # publisher named by a credit line ("(c) 2016, The Washington Post")
    label: str | None = None  # the data set's own label of the record ("satire", "fake", "reliable"), as given

    @property
    def content_hash(self) -> str:
        """Hash of what is indexed: a changed title, body or label means a changed article."""
        h = hashlib.sha256()
        published = self.published.isoformat() if self.published else ""
        parts = [self.title, self.body, self.publisher or "", self.author or "", published, str(self.year or "")]
        if self.label:  # only when present, so articles without a label keep their earlier hash
            parts.append(self.label)
        for part in parts:
            h.update(part.encode("utf-8"))
            h.update(b"\x00")
        return h.hexdigest()[:32]

    @property
    def date_key(self) -> int | None:
        """Publication date as an integer YYYYMMDD (Chroma range-filters numbers only)."""
        return date_key(self.published)


def date_key(d: date | None) -> int | None:
    return None if d is None else d.year * 10000 + d.month * 100 + d.day


@dataclass(frozen=True)
class Chunk:
    """A span of an article body: ``text == article.body[start:end]``."""

    article_id: str
    ordinal: int
    start: int
    end: int
    text: str

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end or self.end - self.start != len(self.text):
            raise ValueError(f"chunk offsets {self.start}:{self.end} do not match its text")

    @property
    def id(self) -> str:
        return f"{self.article_id}#{self.ordinal}"


def chunk_article_id(chunk_id: str) -> str:
    """The article id inside a chunk id (``<article id>#<ordinal>``)."""
    return chunk_id.rpartition("#")[0]


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with the article it belongs to and how it ranked."""

    chunk: Chunk
    article: Article
    score: float
    dense_rank: int | None  # 1-based rank in the dense list, None if absent
    sparse_rank: int | None  # 1-based rank in the BM25 list, None if absent
    also_published_by: tuple[str, ...] = ()
    more_chunks: tuple[str, ...] = ()  # other matching chunks of the same article, best first


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved article ranked as an answer to the question."""

    article_id: str
    start: int
    end: int
    text: str
    score: float


Verification = Literal["verified", "repaired", "rejected"]


@dataclass(frozen=True)
class Quote:
    """Verbatim text of an article body at ``[start, end)``; ``source`` is its citation number."""

    article_id: str
    start: int
    end: int
    text: str
    source: int
    verification: Verification = "verified"


@dataclass(frozen=True)
class Source:
    """A cited article as the reader sees it in the sources list."""

    number: int
    article_id: str
    title: str
    publisher: str | None
    author: str | None
    published: str | None  # ISO date, or the year alone when only that is known
    url: str | None
    origin: str
    also_published_by: tuple[str, ...] = ()
    label: str | None = None  # the data set's own label of the article ("satire", "fake"), shown with it


def source_for(number: int, article: Article, also: tuple[str, ...] = ()) -> Source:
    """The sources-list entry of ``article`` as citation ``number``."""
    published = article.published.isoformat() if article.published else (str(article.year) if article.year else None)
    return Source(number, article.id, article.title, article.publisher, article.author, published, article.url, article.origin,
                  also, article.label)


@dataclass(frozen=True)
class Filters:
    """What the search was restricted to; empty means the whole archive."""

    publishers: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    @classmethod
    def parse(
        cls,
        publishers: Iterable[str] | None = None,
        authors: Iterable[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        *,
        labels: tuple[str, str] = ("From date", "Until date"),
    ) -> Filters:
        """The filters as a reader typed them (CLI options, the chat's fields): blank and repeated names
        dropped, dates as YYYY-MM-DD. A date that is not one, or a start after the end, is an
        ``InputError`` worded for the reader; ``labels`` name the two date fields as the front end does."""
        start, end = cls._day(since, labels[0]), cls._day(until, labels[1])
        if start and end and start > end:
            raise InputError(f"The date range is empty: {start.isoformat()} is after {end.isoformat()}.")
        return cls(cls._names(publishers), cls._names(authors), start, end)

    @staticmethod
    def _names(values: Iterable[str] | None) -> tuple[str, ...]:
        return tuple(dict.fromkeys(str(v) for v in (values or ()) if str(v).strip()))

    @staticmethod
    def _day(text: str | None, label: str) -> date | None:
        text = (text or "").strip()
        if not text:
            return None
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            try:
                return date.fromisoformat(text)
            except ValueError:  # a day that does not exist, such as 2021-02-30
                pass
        raise InputError(f"{label} “{text[:40]}” is not a date; use YYYY-MM-DD.")

    @property
    def empty(self) -> bool:
        return not (self.publishers or self.authors or self.since or self.until)

    def describe(self) -> str:
        """The restriction in words, as every front end states it ("whole archive" when none)."""
        if self.empty:
            return "whole archive"
        bits = []
        if self.publishers:
            bits.append("publisher " + ", ".join(self.publishers))
        if self.authors:
            bits.append("author " + ", ".join(self.authors))
        if self.since and self.until:
            bits.append(f"published {self.since.isoformat()} to {self.until.isoformat()}")
        elif self.since:
            bits.append(f"published from {self.since.isoformat()}")
        elif self.until:
            bits.append(f"published until {self.until.isoformat()}")
        return "; ".join(bits)


NOT_FOUND = "The archive does not contain an answer to this question."  # how every abstention begins


Outcome = Literal["answered", "not_answered", "nothing_found"]
# answered: cited quotes that carry what is asked; not_answered: the archive has related passages,
# but none says what is asked (an abstention); nothing_found: nothing relevant (an abstention).


@dataclass(frozen=True)
class Answer:
    """What every front end shows: the CLI, the chat and the evaluation report."""

    question: str
    text: str
    quotes: tuple[Quote, ...]
    sources: tuple[Source, ...]
    abstained: bool  # the outcome is not "answered"
    searched_query: str
    filters: Filters
    nearest: tuple[Source, ...] = ()  # shown with an abstention
    outcome: Outcome = "answered"
    direct: Quote | None = None  # the words of the lead quote that answer the question (name, date, figure …)
    related: tuple[Source, ...] = ()  # stories found on the topic that do not carry the answer; not citations
    answerability: float | None = None  # the answerability model's score for the evidence
    coverage: str = ""
    notes: tuple[str, ...] = ()  # e.g. the resolved time period, rejected quotes
    retrieved: tuple[str, ...] = ()  # article ids in retrieval order (for evaluation)
    retrieved_chunks: tuple[str, ...] = ()  # chunk ids in retrieval order (a story's matching chunks together)
    timings: dict[str, float] = field(default_factory=dict, compare=False)


def answer_to_dict(answer: Answer) -> dict[str, object]:
    """The answer as plain JSON data (what ``newsdesk ask --json`` prints and reports store)."""
    from dataclasses import asdict

    data = asdict(answer)
    f = answer.filters
    data["filters"] = {
        "publishers": list(f.publishers),
        "authors": list(f.authors),
        "since": f.since.isoformat() if f.since else None,
        "until": f.until.isoformat() if f.until else None,
    }
    return data


@dataclass(frozen=True)
class IndexStatus:
    """What the serving index holds, from its manifest: ``newsdesk index status`` and the chat's archive panel."""

    index_dir: str
    generation: str
    notice: str  # non-empty when the live generation is damaged and an earlier one answers instead
    store: str
    articles: int
    chunks: int
    publishers: tuple[str, ...]
    date_min: str | None
    date_max: str | None
    undated: int
    model: str
    dimension: int
    backend: str  # the encoder backend the index was built with (torch, onnx-fp32, onnx-int8)
    model_matches_settings: bool
    chunk_tokens: int
    chromadb: str
    built_at: str
    build_seconds: float
    sources: tuple[str, ...]
    rejected: int  # records and files rejected by the build
    duplicates: int  # duplicate texts stored once
    built_on: str = "this machine"  # or "a Ray cluster at ADDRESS (N encoders)"

    def to_dict(self) -> dict[str, object]:
        """As plain JSON data (what ``newsdesk index status --json`` prints)."""
        from dataclasses import asdict

        return {**asdict(self), "publishers": list(self.publishers), "sources": list(self.sources)}
