"""Rebuild: archive files → cleaned articles → chunks → vectors + BM25 → a new live generation."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

from .chunking import Span, chunk_article, embed_text, fit_spans, sentence_spans
from .config import Settings
from .dedupe import StoryGrouper
from .embedding import Embedder, make_embedder
from .errors import BadInputError
from .records import Article, Chunk
from .sources import Limits, Problem, iter_files, read_file
from .store import GenerationWriter, IndexPaths, Manifest, chunk_metadata, writer_lock


class EmptyArchiveError(BadInputError):
    pass


EMBED_BATCH_CHUNKS = 256  # chunks handed to the encoder at once (it sorts them by length inside)

Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass
class BuildReport:
    files: int = 0
    articles: int = 0
    chunks: int = 0
    duplicates: list[Problem] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    generation: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "articles": self.articles,
            "chunks": self.chunks,
            "duplicates": [str(p) for p in self.duplicates],
            "rejected": [str(p) for p in self.rejected],
            "notices": [str(p) for p in self.notices],
            "seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
        }


def rebuild(
    sources: Sequence[Path], settings: Settings, embedder: Embedder | None = None, progress: Progress | None = None
) -> BuildReport:
    """Build a new generation from ``sources`` and make it live only when it is complete."""
    embedder = embedder or make_embedder(settings)
    paths = IndexPaths(settings.index_dir)
    with writer_lock(paths):
        started = time.perf_counter()
        writer = GenerationWriter(paths, embedder)
        try:
            builder = _Builder(writer, embedder, settings, progress)
            report = builder.run(sources)
            if report.articles == 0:
                raise EmptyArchiveError(
                    "No articles were found in " + ", ".join(str(s) for s in sources) + "; the index was not changed."
                    + (f" First problem: {report.rejected[0]}" if report.rejected else "")
                )
            report.seconds = time.perf_counter() - started
            report.generation = writer.name
            groups = builder.grouper.groups()
            writer.finish(builder.manifest(report, sources, len(groups.members)), groups)
            writer.publish()
        except BaseException:
            writer.abandon()
            raise
    return report


class _Builder:
    def __init__(self, writer: GenerationWriter, embedder: Embedder, settings: Settings, progress: Progress | None) -> None:
        self.writer = writer
        self.embedder = embedder
        self.settings = settings
        self.progress = progress or (lambda what, done, total: None)
        self.limits = Limits(settings.max_file_mb * 2**20, settings.max_record_chars)
        self.report = BuildReport()
        self.seen_bodies: dict[str, str] = {}  # body hash → location of the first copy
        self.seen_ids: dict[str, str] = {}  # article id → location
        self.pending: list[tuple[Article, Chunk, list[Span]]] = []
        self.grouper = StoryGrouper()
        self.fingerprint = hashlib.sha256()
        self.publishers: set[str] = set()
        self.dates: list[int] = []
        self.undated = 0

    def run(self, sources: Sequence[Path]) -> BuildReport:
        entries = list(iter_files(sources))
        files = [e for e in entries if isinstance(e, Path)]
        for e in entries:
            if isinstance(e, Problem):
                (self.report.rejected if e.rejected else self.report.notices).append(e)
        for done, path in enumerate(files, start=1):
            self.report.files += 1
            self._add_records(read_file(path, self.limits))
            self.progress("files", done, len(files))
        self._flush()
        return self.report

    def _add_records(self, records: Iterable[Article | Problem]) -> None:
        for record in records:
            if isinstance(record, Problem):
                (self.report.rejected if record.rejected else self.report.notices).append(record)
                continue
            self._add_article(record)

    def _add_article(self, article: Article) -> None:
        where = f"{article.origin}:{article.line}"
        body_key = hashlib.sha256(article.body.encode("utf-8")).hexdigest()
        if body_key in self.seen_bodies:
            self.report.duplicates.append(Problem(where, f"same text as {self.seen_bodies[body_key]}; stored once", rejected=False))
            return
        if article.id in self.seen_ids:
            new_id = _free_id(article.id, self.seen_ids)
            self.report.notices.append(
                Problem(where, f"article id {article.id!r} already used at {self.seen_ids[article.id]}; indexed as {new_id!r}", rejected=False)
            )
            article = replace(article, id=new_id)
        self.seen_bodies[body_key] = where
        self.seen_ids[article.id] = where
        self.writer.add_article(article)
        self.report.articles += 1
        self.fingerprint.update(article.content_hash.encode())
        if article.publisher:
            self.publishers.add(article.publisher)
        if article.date_key is not None:
            self.dates.append(article.date_key)
        else:
            self.undated += 1
        self.grouper.add(article)
        spans = fit_spans(article.body, sentence_spans(article.body), self.embedder.count_tokens, self.settings.chunk_tokens)
        chunks = chunk_article(
            article, self.embedder.count_tokens, self.settings.chunk_tokens, self.settings.chunk_overlap_sentences, spans
        )
        for c in chunks:
            inside = [sp for sp in spans if sp.start >= c.start and sp.end <= c.end] or [Span(c.start, c.end)]
            self.pending.append((article, c, inside))
        if len(self.pending) >= EMBED_BATCH_CHUNKS:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        started = time.perf_counter()
        texts, local_spans = [], []
        for a, c, spans in self.pending:
            text = embed_text(a, c)
            shift = len(text) - len(c.text)  # the headline comes first
            texts.append(text)
            local_spans.append([(sp.start - c.start + shift, sp.end - c.start + shift) for sp in spans])
        vectors, sentence_vectors = self.embedder.embed_with_spans(texts, local_spans)
        self.report.embed_seconds += time.perf_counter() - started
        chunks = [c for _, c, _ in self.pending]
        metas = [chunk_metadata(a, c) for a, c, _ in self.pending]
        lexical = [f"{a.title}\n{a.publisher or ''}\n{c.text}" for a, c, _ in self.pending]
        sentences = [[(sp.start, sp.end) for sp in spans] for _, _, spans in self.pending]
        self.writer.add_chunks(chunks, metas, vectors, lexical, sentences, sentence_vectors)
        self.report.chunks += len(chunks)
        self.progress("chunks", self.report.chunks, 0)
        self.pending = []

    def manifest(self, report: BuildReport, sources: Sequence[Path], groups: int) -> Manifest:
        def iso(key: int | None) -> str | None:
            return None if key is None else f"{key // 10000:04d}-{key // 100 % 100:02d}-{key % 100:02d}"

        return Manifest(
            model_id=self.embedder.model_id,
            dimension=self.embedder.dimension,
            backend=self.embedder.backend,
            chunk_tokens=self.settings.chunk_tokens,
            chunk_overlap_sentences=self.settings.chunk_overlap_sentences,
            chromadb_version=metadata.version("chromadb"),
            newsdesk_version=metadata.version("newsdesk"),
            articles=report.articles,
            chunks=report.chunks,
            publishers=sorted(self.publishers),
            date_min=iso(min(self.dates)) if self.dates else None,
            date_max=iso(max(self.dates)) if self.dates else None,
            undated=self.undated,
            source_fingerprint=self.fingerprint.hexdigest()[:32],
            sources=[str(s) for s in sources],
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            build_seconds=round(report.seconds, 3),
            embed_seconds=round(report.embed_seconds, 3),
            report={k: v for k, v in report.as_dict().items() if k in ("files", "duplicates", "rejected")},
            sentences=self.writer.sentences_written,
            syndicated_groups=groups,
        )


def _free_id(article_id: str, taken: dict[str, str]) -> str:
    n = 2
    while f"{article_id}~{n}" in taken:
        n += 1
    return f"{article_id}~{n}"
