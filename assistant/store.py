"""The on-disk index: generations of (Chroma collection + BM25 + articles), a manifest, a lock.

Layout under ``index_dir``::

    LIVE                    name of the generation that answers queries (replaced atomically)
    writer.lock             held (flock) by the one process that is writing
    generations/<name>/     chroma/, bm25/, articles.jsonl, chunks.jsonl, manifest.json

A rebuild writes a new generation and only then replaces ``LIVE``; a rebuild that fails or is
killed leaves the previous generation answering. Readers open the generation named in ``LIVE``
with a fresh Chroma client (a process never sees another process's writes to the *same*
directory, so generations are never written in place).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .dedupe import StoryGroups
from .embedding import Embedder
from .errors import IndexDamagedError, IndexLockedError, IndexMismatchError, IndexMissingError, NewsdeskError
from .lexical import terms
from .records import Article, Chunk

COLLECTION = "chunks"
CHROMA_MAX_BATCH = 5000
MANIFEST_VERSION = 1
KEEP_GENERATIONS = 2


@dataclass(frozen=True)
class Manifest:
    model_id: str
    dimension: int
    backend: str
    chunk_tokens: int
    chunk_overlap_sentences: int
    chromadb_version: str
    newsdesk_version: str
    articles: int
    chunks: int
    publishers: list[str]
    date_min: str | None
    date_max: str | None
    undated: int
    source_fingerprint: str
    sources: list[str]
    built_at: str
    build_seconds: float
    embed_seconds: float
    report: dict[str, Any] = field(default_factory=dict)
    sentences: int = 0
    syndicated_groups: int = 0
    format: int = MANIFEST_VERSION

    @classmethod
    def load(cls, path: Path) -> Manifest:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def _chroma_settings():  # type: ignore[no-untyped-def]
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def chroma_client(path: Path):  # type: ignore[no-untyped-def]
    import chromadb

    return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


def embedding_function(embedder: Embedder):  # type: ignore[no-untyped-def]
    """Our encoder wrapped for Chroma, so Chroma never picks (and downloads) one of its own."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

    class NewsdeskEmbedding(EmbeddingFunction[Documents]):
        def __init__(self, inner: Embedder) -> None:
            self.inner = inner

        def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's signature
            return list(self.inner.embed_batch(list(input)))

        @staticmethod
        def name() -> str:
            return "newsdesk"

        def get_config(self) -> dict[str, Any]:
            return {"model_id": self.inner.model_id}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> NewsdeskEmbedding:
            raise NewsdeskError("The index's embedding function is provided by newsdesk when it opens the index.")

        def default_space(self) -> str:  # type: ignore[override]
            return "cosine"

    return NewsdeskEmbedding(embedder)


# ---- paths, lock, live pointer -------------------------------------------------------------


@dataclass(frozen=True)
class IndexPaths:
    root: Path

    @property
    def live(self) -> Path:
        return self.root / "LIVE"

    @property
    def lock(self) -> Path:
        return self.root / "writer.lock"

    @property
    def generations(self) -> Path:
        return self.root / "generations"

    def live_generation(self) -> Path | None:
        try:
            name = self.live.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return self.generations / name if name else None

    def complete_generations(self) -> list[Path]:
        """Generations with a manifest (finished builds), newest first."""
        if not self.generations.is_dir():
            return []
        done = [p for p in self.generations.iterdir() if (p / "manifest.json").is_file()]
        return sorted(done, key=lambda p: p.name, reverse=True)


@contextmanager
def writer_lock(paths: IndexPaths) -> Iterator[None]:
    """One writer at a time: a second one is refused at once, naming the holder."""
    paths.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "another process"
            raise IndexLockedError(
                f"Another newsdesk process is writing the index in {paths.root} ({holder}). "
                "Wait for it to finish, then try again."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock; the kernel also releases it if we are killed


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# ---- records on disk -----------------------------------------------------------------------


def article_to_json(article: Article) -> dict[str, Any]:
    data = asdict(article)
    data["published"] = article.published.isoformat() if article.published else None
    return data


def article_from_json(data: dict[str, Any]) -> Article:
    published = data.get("published")
    return Article(**{**data, "published": date.fromisoformat(published) if published else None})


def chunk_metadata(article: Article, chunk: Chunk) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "article_id": article.id,
        "ordinal": chunk.ordinal,
        "start": chunk.start,
        "end": chunk.end,
        "publisher": article.publisher or "",
        "author": article.author or "",
    }
    if article.date_key is not None:
        meta["date"] = article.date_key
    if article.year is not None:
        meta["year"] = article.year
    return meta


# ---- writing a generation ------------------------------------------------------------------


class GenerationWriter:
    """Writes one new generation; ``publish`` makes it live. Use only under ``writer_lock``."""

    def __init__(self, paths: IndexPaths, embedder: Embedder, base: Path | None = None) -> None:
        """A new generation; with ``base`` (an update) it starts from a copy of that generation's
        Chroma collection, so unchanged chunks are neither re-encoded nor re-written."""
        self.paths = paths
        _remove_unfinished(paths)
        now = time.time_ns()
        self.name = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9)) + f".{now % 10**9:09d}-{os.getpid()}"
        self.dir = paths.generations / self.name
        self.dir.mkdir(parents=True)
        self.embedder = embedder
        self.base_ids: set[str] = set()
        self.written_ids: set[str] = set()
        if base is not None:
            shutil.copytree(base / "chroma", self.dir / "chroma")
        self._client = chroma_client(self.dir / "chroma")
        if base is not None:
            self.collection = self._client.get_collection(COLLECTION, embedding_function=embedding_function(embedder))
            self.base_ids = set(self.collection.get(include=[])["ids"])
        else:
            self.collection = self._client.create_collection(
                COLLECTION,
                embedding_function=embedding_function(embedder),
                configuration={"hnsw": {"space": "cosine"}},
            )
        self._articles = (self.dir / "articles.jsonl").open("w", encoding="utf-8")
        self._chunks = (self.dir / "chunks.jsonl").open("w", encoding="utf-8")
        self._terms = (self.dir / "bm25-terms.jsonl").open("w", encoding="utf-8")
        self._sentence_vectors = (self.dir / "sentences.f16").open("wb")
        self._sentence_rows = (self.dir / "sentences.i32").open("wb")
        self.chunks_written = 0
        self.sentences_written = 0

    def add_article(self, article: Article) -> None:
        self._articles.write(json.dumps(article_to_json(article), ensure_ascii=False) + "\n")

    def add_chunks(
        self,
        chunks: Sequence[Chunk],
        metadatas: Sequence[dict[str, Any]],
        vectors: np.ndarray,
        lexical: Sequence[str],
        sentences: Sequence[Sequence[tuple[int, int]]],
        sentence_vectors: Sequence[np.ndarray],
        stored: Sequence[bool] | None = None,
    ) -> None:
        """Store chunks with their vectors; ``lexical`` is the text BM25 indexes for each chunk;
        ``sentences`` are each chunk's sentence spans (body offsets) with their vectors;
        ``stored`` marks chunks already in the copied collection unchanged (not re-written)."""
        todo = [i for i in range(len(chunks)) if not (stored and stored[i] and chunks[i].id in self.base_ids)]
        for i in range(0, len(todo), CHROMA_MAX_BATCH):
            part = todo[i : i + CHROMA_MAX_BATCH]
            self.collection.upsert(
                ids=[chunks[j].id for j in part],
                embeddings=vectors[part],
                documents=[chunks[j].text for j in part],
                metadatas=[metadatas[j] for j in part],
            )
        self.written_ids.update(c.id for c in chunks)
        for c, spans, svecs in zip(chunks, sentences, sentence_vectors, strict=True):
            first = self.sentences_written
            rows = np.array([(self.chunks_written, s, e) for s, e in spans], dtype=np.int32).reshape(-1, 3)
            self._sentence_rows.write(rows.tobytes())
            self._sentence_vectors.write(np.asarray(svecs, dtype=np.float16).reshape(-1, self.embedder.dimension).tobytes())
            self.sentences_written += len(spans)
            row = {"id": c.id, "article_id": c.article_id, "ordinal": c.ordinal, "start": c.start, "end": c.end,
                   "s0": first, "s1": self.sentences_written}
            self._chunks.write(json.dumps(row, ensure_ascii=False) + "\n")
            self.chunks_written += 1
        for text in lexical:
            self._terms.write(json.dumps(terms(text)) + "\n")

    def finish(self, manifest: Manifest, groups: StoryGroups) -> None:
        """Flush everything; the manifest is written last and marks the generation complete."""
        groups.save(self.dir / "groups.json")
        stale = sorted(self.base_ids - self.written_ids)  # chunks of removed or shortened articles
        for i in range(0, len(stale), CHROMA_MAX_BATCH):
            self.collection.delete(ids=stale[i : i + CHROMA_MAX_BATCH])
        for fh in self._files:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        self._build_bm25()
        _write_atomic(self.dir / "manifest.json", json.dumps(asdict(manifest), indent=2, ensure_ascii=False))

    @property
    def _files(self) -> tuple[Any, ...]:
        return (self._articles, self._chunks, self._terms, self._sentence_vectors, self._sentence_rows)

    def _build_bm25(self) -> None:
        import bm25s

        terms_path = self.dir / "bm25-terms.jsonl"
        with terms_path.open(encoding="utf-8") as fh:
            corpus = [json.loads(line) for line in fh]
        retriever = bm25s.BM25()
        if corpus:
            retriever.index(corpus, show_progress=False)
            retriever.save(str(self.dir / "bm25"), show_progress=False)
        terms_path.unlink()

    def publish(self) -> None:
        _write_atomic(self.paths.live, self.name + "\n")
        prune_generations(self.paths)

    def abandon(self) -> None:
        for fh in self._files:
            if not fh.closed:
                fh.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _remove_unfinished(paths: IndexPaths) -> None:
    """Leftovers of killed builds (no manifest). Only called under the writer lock."""
    if paths.generations.is_dir():
        for p in paths.generations.iterdir():
            if p.is_dir() and not (p / "manifest.json").is_file() and p != paths.live_generation():
                shutil.rmtree(p, ignore_errors=True)


def prune_generations(paths: IndexPaths, keep: int = KEEP_GENERATIONS) -> None:
    """Remove unfinished generations and all but the newest ``keep`` finished ones (never the live one)."""
    live = paths.live_generation()
    complete = paths.complete_generations()
    keep_set = {p.name for p in complete[:keep]} | ({live.name} if live else set())
    for p in paths.generations.iterdir():
        if p.is_dir() and p.name not in keep_set:
            shutil.rmtree(p, ignore_errors=True)


# ---- reading the live generation -----------------------------------------------------------


@dataclass(frozen=True)
class ChunkColumns:
    publishers: np.ndarray
    authors: np.ndarray
    dates: np.ndarray  # YYYYMMDD, 0 when unknown


class Index:
    """A read-only view of one finished generation."""

    def __init__(self, directory: Path, embedder: Embedder, manifest: Manifest) -> None:
        self.dir = directory
        self.manifest = manifest
        self.embedder = embedder
        self.articles: dict[str, Article] = {}
        with (directory / "articles.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                a = article_from_json(json.loads(line))
                self.articles[a.id] = a
        self.chunk_rows: list[dict[str, Any]] = []
        with (directory / "chunks.jsonl").open(encoding="utf-8") as fh:
            self.chunk_rows = [json.loads(line) for line in fh]
        self.chunk_position = {row["id"]: i for i, row in enumerate(self.chunk_rows)}
        self.groups = StoryGroups.load(directory / "groups.json")
        self.sentence_rows = np.fromfile(directory / "sentences.i32", dtype=np.int32).reshape(-1, 3)
        self.sentence_vectors = (
            np.memmap(directory / "sentences.f16", dtype=np.float16, mode="r", shape=(manifest.sentences, manifest.dimension))
            if manifest.sentences
            else np.zeros((0, manifest.dimension), dtype=np.float16)
        )
        if len(self.sentence_rows) != manifest.sentences:
            raise IndexDamagedError(f"The index generation {directory.name} has a damaged sentence table.")
        self.bm25 = _load_bm25(directory / "bm25") if self.chunk_rows else None
        client = chroma_client(directory / "chroma")
        self.collection = client.get_collection(COLLECTION, embedding_function=embedding_function(embedder))
        count = self.collection.count()
        if count != manifest.chunks or len(self.chunk_rows) != manifest.chunks or len(self.articles) != manifest.articles:
            raise IndexDamagedError(
                f"The index generation {directory.name} is incomplete ({count} of {manifest.chunks} chunks in Chroma)."
            )

    @cached_property
    def columns(self) -> ChunkColumns:
        """Per-chunk publisher, author and date arrays, for filtering the BM25 scores."""
        publishers, authors, dates = [], [], []
        for row in self.chunk_rows:
            a = self.articles[row["article_id"]]
            publishers.append(a.publisher or "")
            authors.append(a.author or "")
            dates.append(a.date_key or 0)
        return ChunkColumns(np.array(publishers, dtype=object), np.array(authors, dtype=object), np.array(dates, dtype=np.int64))

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency of a term over chunks (0 for unknown terms)."""
        if self.bm25 is None:
            return 0.0
        tid = self.bm25.vocab_dict.get(term)
        if tid is None:
            return 0.0
        indptr = self.bm25.scores["indptr"]
        df = int(indptr[tid + 1] - indptr[tid])
        n = len(self.chunk_rows)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def sentences(self, chunk_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows of (chunk position, start, end), vectors) of a chunk's sentences."""
        row = self.chunk_rows[self.chunk_position[chunk_id]]
        return self.sentence_rows[row["s0"] : row["s1"]], self.sentence_vectors[row["s0"] : row["s1"]]

    @cached_property
    def _chunks_of(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for row in self.chunk_rows:
            out.setdefault(row["article_id"], []).append(row["id"])
        return out

    def article_chunks(self, article_id: str) -> list[str]:
        return self._chunks_of.get(article_id, [])

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """Stored chunk vectors, in the order of ``chunk_ids``."""
        got = self.collection.get(ids=list(chunk_ids), include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        return np.asarray([by_id[c] for c in chunk_ids], dtype=np.float32).reshape(len(chunk_ids), self.manifest.dimension)

    def chunk(self, chunk_id: str) -> Chunk:
        row = self.chunk_rows[self.chunk_position[chunk_id]]
        body = self.articles[row["article_id"]].body
        return Chunk(row["article_id"], row["ordinal"], row["start"], row["end"], body[row["start"] : row["end"]])

    def dense(self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks."""
        n = min(n, self.manifest.chunks)
        if n <= 0:
            return []
        res = self.collection.query(query_embeddings=[vector], n_results=n, where=where or None, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def sparse(self, query_terms: list[str], n: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the ``n`` best chunks with a positive score, within ``mask``."""
        if self.bm25 is None or not query_terms:
            return []
        scores = self.bm25.get_scores(query_terms)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.chunk_rows[i]["id"], float(scores[i])) for i in top if scores[i] > 0]


def _load_bm25(path: Path):  # type: ignore[no-untyped-def]
    import bm25s

    return bm25s.BM25.load(str(path), mmap=True, show_progress=False)


def open_index(index_dir: Path, embedder: Embedder) -> Index:
    """The live generation, checked against the configured model. Falls back to the previous
    finished generation (and says so) if the live one is damaged."""
    paths = IndexPaths(index_dir)
    live = paths.live_generation()
    if live is None:
        raise IndexMissingError(
            f"No index in {index_dir}. Build one with: newsdesk index rebuild PATH (for example: newsdesk index rebuild seeds/)"
        )
    candidates = [live] + [p for p in paths.complete_generations() if p != live]
    first_error: NewsdeskError | None = None
    for directory in candidates:
        try:
            return _open_generation(directory, embedder)
        except IndexMismatchError:
            raise
        except (IndexDamagedError, OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            first_error = first_error or IndexDamagedError(
                f"The live index generation {directory.name} in {index_dir} is damaged ({type(exc).__name__}). "
                "Rebuild it with: newsdesk index rebuild PATH"
            )
        except Exception as exc:  # noqa: BLE001 - Chroma raises its own types for damaged files
            first_error = first_error or IndexDamagedError(
                f"The live index generation {directory.name} in {index_dir} cannot be opened ({type(exc).__name__}). "
                "Rebuild it with: newsdesk index rebuild PATH"
            )
    assert first_error is not None
    raise first_error


def _open_generation(directory: Path, embedder: Embedder) -> Index:
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise IndexDamagedError(f"The index generation {directory.name} has no manifest.")
    manifest = Manifest.load(manifest_path)
    if manifest.model_id != embedder.model_id or manifest.dimension != embedder.dimension:
        raise IndexMismatchError(
            f"The index in {directory.parent.parent} was built with {manifest.model_id} ({manifest.dimension} dimensions), "
            f"but the configured model is {embedder.model_id} ({embedder.dimension} dimensions). "
            "Rebuild the index with the configured model (newsdesk index rebuild PATH) or set NEWSDESK_EMBED_MODEL "
            f"to {manifest.model_id}."
        )
    return Index(directory, embedder, manifest)
