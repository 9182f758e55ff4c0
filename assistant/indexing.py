"""Rebuild: archive files → cleaned articles → chunks → vectors + BM25 → a new live generation."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

import numpy as np

from .builddb import build_db
from .chunking import Span
from .config import Settings
from .dedupe import StoryGrouper
from .distributed import Encoded, RayBuild, encode_chunks, plan_chunks
from .embedding import Embedder, make_embedder
from .errors import (
    ChromaUnavailableError,
    EmptyArchiveError,
    IndexDamagedError,
    IndexMismatchError,
    MismatchCause,
    NewsdeskError,
)
from .pruning import Removal, Reread
from .records import Article, Chunk
from .sources import Limits, Problem, iter_files, read_file, resolved
from .store import (
    ChromaServer,
    ChunkBatch,
    GenerationWriter,
    Index,
    IndexPaths,
    Manifest,
    open_index,
    writer_lock,
    writing,
)

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
    reused: int = 0  # articles whose vectors came from the previous generation
    embedded: int = 0  # chunks encoded in this run
    removed: list[str] = field(default_factory=list)  # ids of the articles pruned by an update
    removals: list[Removal] = field(default_factory=list)  # the same, with where each came from and why

    def as_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "articles": self.articles,
            "chunks": self.chunks,
            "duplicates": [str(p) for p in self.duplicates],
            "rejected": [str(p) for p in self.rejected],
            "notices": [str(p) for p in self.notices],
            "reused_articles": self.reused,
            "embedded_chunks": self.embedded,
            "removed": self.removed,
            "removals": [str(r) for r in self.removals],
            "seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
        }


def rebuild(
    sources: Sequence[Path], settings: Settings, embedder: Embedder | None = None, progress: Progress | None = None
) -> BuildReport:
    """Build a new generation from ``sources`` and make it live only when it is complete.

    Vectors of articles whose text is unchanged since the live generation (same model and chunker)
    are reused rather than re-encoded; the Chroma collection itself is written afresh, so a
    rebuild also repairs a damaged index. With ``settings.chroma_host`` the vectors go to a new
    collection on that Chroma server. Sources are recorded as resolved absolute paths.
    """
    sources = [resolved(s) for s in sources]
    embedder = embedder or make_embedder(settings)
    paths = IndexPaths(settings.index_dir)
    server = ChromaServer.from_settings(settings)
    with writing(paths), writer_lock(paths):
        previous = _previous(settings, embedder, server)
        writer = GenerationWriter(paths, embedder, server=server)
        return _build(writer, _Builder(writer, embedder, settings, progress, previous), sources, lambda b: b.run(sources))


def update(
    sources: Sequence[Path],
    settings: Settings,
    embedder: Embedder | None = None,
    prune: bool = False,
    progress: Progress | None = None,
) -> BuildReport:
    """Add new and re-index changed articles from ``sources`` into a new generation that starts from
    the live one; with ``prune``, drop articles whose source file is gone, or was read whole here
    without them (see ``pruning``: a file or record that fails to read keeps its earlier articles).
    Unchanged articles are never re-encoded: in the embedded store they are not even re-written
    (the new generation starts from a copy of the live collection); on a Chroma server, which cannot
    copy a collection, their stored vectors are added to the new collection. ``pruning.plan_update``
    shows what an update would do without writing."""
    sources = [resolved(s) for s in sources]
    embedder = embedder or make_embedder(settings)
    paths = IndexPaths(settings.index_dir)
    server = ChromaServer.from_settings(settings)
    with writing(paths), writer_lock(paths):
        previous = open_index(settings.index_dir, embedder, server)
        if previous.notice:  # the live generation is damaged: updating the previous one would drop its changes
            raise IndexDamagedError(f"{previous.notice} (`newsdesk index update` builds on the live generation.)")
        if not _compatible(previous, settings, embedder):
            raise IndexMismatchError(
                "The live index was built with other model or chunker settings; run `newsdesk index rebuild` instead.",
                MismatchCause.MODEL if previous.manifest.backend != embedder.backend else MismatchCause.CHUNKER,
            )
        writer = GenerationWriter(paths, embedder, base=previous, server=server)
        builder = _Builder(writer, embedder, settings, progress, previous)
        all_sources = list(dict.fromkeys([*map(Path, previous.manifest.sources), *sources]))
        return _build(writer, builder, all_sources, lambda b: b.run_update(sources, prune))


def _previous(settings: Settings, embedder: Embedder, server: ChromaServer | None) -> Index | None:
    """The live generation (in either store), when its vectors can be reused by a build with these settings."""
    try:
        index = open_index(settings.index_dir, embedder, server, any_store=True)
    except ChromaUnavailableError:
        raise
    except NewsdeskError:
        return None
    return index if _compatible(index, settings, embedder) else None


def _compatible(index: Index, settings: Settings, embedder: Embedder) -> bool:
    m = index.manifest
    return (m.model_id, m.dimension, m.backend, m.chunk_tokens, m.chunk_overlap_sentences) == (
        embedder.model_id, embedder.dimension, embedder.backend, settings.chunk_tokens, settings.chunk_overlap_sentences
    )


def _build(
    writer: GenerationWriter, builder: _Builder, sources: Sequence[Path], work: Callable[[_Builder], BuildReport]
) -> BuildReport:
    """Run ``work``, then finish and publish the generation — or remove it if anything failed."""
    started = time.perf_counter()
    threads = builder.embedder.use_threads(builder.settings.index_threads)
    try:
        builder.start()
        report = work(builder)
        if report.articles == 0:
            raise EmptyArchiveError(
                "No articles were found in " + ", ".join(str(s) for s in sources) + "; the index was not changed."
                + (f" First problem: {report.rejected[0]}" if report.rejected else "")
            )
        report.seconds = time.perf_counter() - started
        report.generation = writer.name
        groups = builder.grouper.groups()
        builder.close()
        writer.finish(builder.manifest(report, sources, len(groups.members)), groups)
        writer.publish()
    except BaseException:
        builder.close()
        writer.abandon()
        raise
    finally:
        builder.embedder.use_threads(threads)
    return report


@dataclass(frozen=True)
class _Pending:
    article: Article
    chunk: Chunk
    spans: list[Span]
    reused: bool  # vectors come from the previous generation
    encoded: tuple[np.ndarray, np.ndarray] | None = None  # (vector, sentence vectors), when encoded on a Ray cluster


class _Builder:
    def __init__(
        self,
        writer: GenerationWriter,
        embedder: Embedder,
        settings: Settings,
        progress: Progress | None,
        previous: Index | None = None,
    ) -> None:
        self.previous = previous
        self.writer = writer
        self.embedder = embedder
        self.settings = settings
        self.progress = progress or (lambda what, done, total: None)
        self.limits = Limits(settings.max_file_mb * 2**20, settings.max_record_chars)
        self.report = BuildReport()
        self.seen = _Seen(writer.dir / "build-seen.sqlite")
        self.pending: list[_Pending] = []
        self.grouper = StoryGrouper(writer.dir / "build-stories.sqlite")
        self.fingerprint = hashlib.sha256()
        self.publishers: set[str] = set()
        self.date_range: tuple[int, int] | None = None
        self.undated = 0
        self.cluster: RayBuild | None = None  # with a Ray address: reads, chunks and encodes on its workers
        self.built_with: dict[str, object] = {}

    def start(self) -> None:
        """Connect to the Ray cluster and start its encoders, when one is configured."""
        if self.settings.ray_address:
            self.cluster = RayBuild(self.settings)
            self.built_with = self.cluster.built_with

    def close(self) -> None:
        """Stop the Ray encoders (if any); close and remove the build's scratch files."""
        if self.cluster is not None:
            self.report.embed_seconds = self.cluster.encode_seconds
            self.cluster.close()
            self.cluster = None
        self.seen.close()
        self.grouper.close()
        for name in ("build-seen.sqlite", "build-stories.sqlite"):
            (self.writer.dir / name).unlink(missing_ok=True)

    def run(self, sources: Sequence[Path]) -> BuildReport:
        entries = list(iter_files(sources))
        files = [e for e in entries if isinstance(e, Path)]
        for e in entries:
            if isinstance(e, Problem):
                self._note(e)
        reads = self.cluster.read(files) if self.cluster else (read_file(path, self.limits) for path in files)
        for done, records in enumerate(reads, start=1):
            self.report.files += 1
            self._add_records(records)
            self.progress("files", done, len(files))
        self._collect(wait=True)
        return self.report

    def run_update(self, sources: Sequence[Path], prune: bool) -> BuildReport:
        """The previous generation's articles, replaced, joined or (with ``prune``) removed by what ``sources`` hold."""
        assert self.previous is not None
        reread = Reread(self.writer.dir)  # the records read, spooled to disk until their turn
        try:
            reread.read(sources, self.limits, self._note, self.cluster.reader(sources) if self.cluster else None)
            self.report.files += reread.files
            for old in self.previous.articles.stream():
                verdict = reread.judge(old, prune)
                if isinstance(verdict, Removal):
                    self.report.removed.append(old.id)
                    self.report.removals.append(verdict)
                elif not verdict:
                    self._add_article(old)
            self.report.notices += reread.kept()
            for article in reread.fresh():
                self._add_article(article)
        finally:
            reread.close()
        self._collect(wait=True)
        return self.report

    def _note(self, problem: Problem) -> None:
        (self.report.rejected if problem.rejected else self.report.notices).append(problem)

    def _add_records(self, records: Iterable[Article | Problem]) -> None:
        for record in records:
            if isinstance(record, Problem):
                self._note(record)
                continue
            self._add_article(record)

    def _add_article(self, article: Article) -> None:
        where = f"{article.origin}:{article.line}"
        body_key = hashlib.sha256(article.body.encode("utf-8")).digest()
        if (first := self.seen.body(body_key)) is not None:
            self.report.duplicates.append(Problem(where, f"same text as {first}; stored once", rejected=False))
            return
        if (taken := self.seen.article(article.id)) is not None:
            new_id = self.seen.free_id(article.id)
            self.report.notices.append(
                Problem(where, f"article id {article.id!r} already used at {taken}; indexed as {new_id!r}", rejected=False)
            )
            article = replace(article, id=new_id)
        self.seen.add(body_key, article.id, where)
        self.writer.add_article(article)
        self.report.articles += 1
        self.fingerprint.update(article.content_hash.encode())
        if article.publisher:
            self.publishers.add(article.publisher)
        if article.date_key is not None:
            low, high = self.date_range or (article.date_key, article.date_key)
            self.date_range = (min(low, article.date_key), max(high, article.date_key))
        else:
            self.undated += 1
        self.grouper.add(article)
        old = self.previous.reusable(article.id) if self.previous else None
        if self.previous is not None and old is not None and old.content_hash == article.content_hash:
            kept = []
            for cid in self.previous.article_chunks(article.id):
                rows, _ = self.previous.sentences(cid)
                spans = [Span(int(s), int(e)) for _, s, e in rows]
                kept.append(_Pending(article, self.previous.chunk(cid), spans, reused=True))
            self.report.reused += 1
            if self.cluster is not None:
                self.cluster.keep(kept)  # back in its place among the articles encoded on the cluster
            else:
                self.pending += kept
        elif self.cluster is not None:
            self.cluster.encode(article)  # chunked and encoded on the cluster; back in this order
        else:
            self.pending += [_Pending(article, c, inside, reused=False) for c, inside in plan_chunks(article, self.embedder, self.settings)]
        self._collect()

    def _collect(self, wait: bool = False) -> None:
        """Take what the cluster has finished (with ``wait``: everything) and write a batch when one is full."""
        for item, encoded in self.cluster.results(wait) if self.cluster else ():
            self.pending += item if encoded is None else _encoded(item, encoded)
        if len(self.pending) >= EMBED_BATCH_CHUNKS or wait:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        started = time.perf_counter()
        new = [p for p in self.pending if not p.reused and p.encoded is None]
        new_vectors, new_sentence_vectors = encode_chunks(self.embedder, [(p.article, p.chunk, p.spans) for p in new])
        self.report.embed_seconds += time.perf_counter() - started
        # Reused chunks the new collection already holds (an update's copy) need no vector fetched.
        old = [p for p in self.pending if p.reused and not self.writer.holds(p.chunk.id)]
        old_vectors = self.previous.vectors([p.chunk.id for p in old]) if (old and self.previous) else None
        vectors, sentence_vectors = [], []
        fresh = iter(zip(new_vectors, new_sentence_vectors, strict=True))
        stale = iter(range(len(old)))
        held = np.zeros(self.embedder.dimension, dtype=np.float32)  # placeholder: not written
        for p in self.pending:
            if p.reused:
                assert self.previous is not None
                vectors.append(held if self.writer.holds(p.chunk.id) else old_vectors[next(stale)])  # type: ignore[index]
                sentence_vectors.append(self.previous.sentence_vectors_copy(p.chunk.id))
            elif p.encoded is not None:
                vectors.append(p.encoded[0])
                sentence_vectors.append(p.encoded[1])
            else:
                v, sv = next(fresh)
                vectors.append(v)
                sentence_vectors.append(sv)
        self.writer.add_chunks(ChunkBatch(
            articles=[p.article for p in self.pending],
            chunks=[p.chunk for p in self.pending],
            vectors=np.asarray(vectors, dtype=np.float32),
            lexical=[f"{p.article.title}\n{p.article.publisher or ''}\n{p.chunk.text}" for p in self.pending],
            sentences=[[(sp.start, sp.end) for sp in p.spans] for p in self.pending],
            sentence_vectors=sentence_vectors,
            stored=[p.reused for p in self.pending],
        ))
        self.report.chunks += len(self.pending)
        self.report.embedded += sum(not p.reused for p in self.pending)
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
            date_min=iso(self.date_range[0]) if self.date_range else None,
            date_max=iso(self.date_range[1]) if self.date_range else None,
            undated=self.undated,
            source_fingerprint=self.fingerprint.hexdigest()[:32],
            sources=[str(s) for s in sources],
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            build_seconds=round(report.seconds, 3),
            embed_seconds=round(report.embed_seconds, 3),
            report={k: v for k, v in report.as_dict().items() if k in ("files", "duplicates", "rejected")},
            sentences=self.writer.sentences_written,
            syndicated_groups=groups,
            built_with=self.built_with,
        )


def _encoded(article: Article, encoded: Encoded) -> list[_Pending]:
    """An article's chunks as a Ray worker encoded them."""
    columns = zip(encoded.chunks, encoded.spans, encoded.vectors, encoded.sentence_vectors, strict=True)
    return [_Pending(article, c, spans, False, (v, sv)) for c, spans, v, sv in columns]


class _Seen:
    """Body hashes and article ids met so far in a build, in a scratch SQLite file (not in memory)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = build_db(
            path,
            """
            CREATE TABLE body (hash BLOB PRIMARY KEY, location TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE article (id TEXT PRIMARY KEY, location TEXT NOT NULL) WITHOUT ROWID;
            """
        )

    def body(self, key: bytes) -> str | None:
        row = self._db.execute("SELECT location FROM body WHERE hash = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def article(self, article_id: str) -> str | None:
        row = self._db.execute("SELECT location FROM article WHERE id = ?", (article_id,)).fetchone()
        return None if row is None else str(row[0])

    def free_id(self, article_id: str) -> str:
        n = 2
        while self.article(f"{article_id}~{n}") is not None:
            n += 1
        return f"{article_id}~{n}"

    def add(self, body_key: bytes, article_id: str, where: str) -> None:
        self._db.execute("INSERT INTO body VALUES (?, ?)", (body_key, where))
        self._db.execute("INSERT INTO article VALUES (?, ?)", (article_id, where))

    def close(self) -> None:
        self._db.close()


def ensure_index(settings: Settings, embedder: Embedder | None = None) -> BuildReport | None:
    """A first start: build the index from ``settings.archive`` when the index directory has none.
    Returns the build's report, or None when there was an index already."""
    if IndexPaths(settings.index_dir).live_generation() is not None:
        return None
    import logging

    logging.getLogger(__name__).warning("No index in %s: building it from %s", settings.index_dir, settings.archive)
    return rebuild([settings.archive], settings, embedder=embedder)
