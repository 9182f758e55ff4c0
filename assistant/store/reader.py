"""Reading the index: the generation that answers, opened and checked, as a read-only ``Index``.

Readers open the generation named in ``LIVE`` with a fresh Chroma client (a process never sees
another process's writes to the *same* directory, so generations are never written in place). If
the live generation is damaged, the newest finished one that opens answers instead, with a notice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..dedupe import StoryGroups
from ..embedding import Embedder
from ..errors import (
    BUILD_HINT,
    ArticleDamagedError,
    ChromaUnavailableError,
    IndexDamagedError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriteError,
)
from ..records import Article, Chunk
from .bm25 import load_bm25
from .chroma import COLLECTION, chroma_client, embedding_function
from .integrity import (
    check_files,
    check_format,
    check_hnsw_files,
    damage,
    fallback_notice,
    nothing_serves,
    open_refused,
)
from .manifest import Manifest, check_compatible, load_manifest
from .paths import IndexPaths, open_lock
from .server import ChromaServer, ServerCollection
from .tables import open_tables

PROBE_CHUNKS = 8  # stored vectors searched for at open: each must find itself
PROBE_NEIGHBOURS = 50  # how far down its own search a probed vector may stand (HNSW is approximate, and
# an archive of near-identical texts puts many vectors within a hair of each other)


@dataclass(frozen=True)
class ChunkColumns:
    publishers: np.ndarray
    authors: np.ndarray
    dates: np.ndarray  # YYYYMMDD, 0 when unknown


class Index:
    """A read-only view of one finished generation.

    ``notice`` is empty, or — when the live generation was damaged and this is the previous one —
    a sentence for the user saying so and how to rebuild."""

    def __init__(self, directory: Path, embedder: Embedder, manifest: Manifest, server: ChromaServer | None = None) -> None:
        self.dir = directory
        self.manifest = manifest
        self.embedder = embedder
        self.server = server
        self.notice = ""
        check_files(directory, manifest)
        self.articles, self.chunk_rows = open_tables(directory)
        self.groups = StoryGroups.load(directory / "groups.json")
        rows_path = directory / "sentences.i32"
        self.sentence_rows = (
            np.memmap(rows_path, dtype=np.int32, mode="r").reshape(-1, 3)
            if rows_path.stat().st_size >= 12 and rows_path.stat().st_size % 12 == 0
            else np.fromfile(rows_path, dtype=np.int32).reshape(-1, 3)  # empty, or damaged: reported just below
        )
        vectors_path = directory / "sentences.f16"
        if len(self.sentence_rows) != manifest.sentences or vectors_path.stat().st_size != manifest.sentences * manifest.dimension * 2:
            raise IndexDamagedError(f"The index generation {directory.name} has a damaged sentence table (sentences.i32, sentences.f16).")
        self.sentence_vectors = (
            np.memmap(vectors_path, dtype=np.float16, mode="r", shape=(manifest.sentences, manifest.dimension))
            if manifest.sentences
            else np.zeros((0, manifest.dimension), dtype=np.float16)
        )
        if len(self.chunk_rows) != manifest.chunks or len(self.articles) != manifest.articles:
            raise IndexDamagedError(
                f"The index generation {directory.name} is incomplete ({len(self.articles)} of {manifest.articles} articles, "
                f"{len(self.chunk_rows)} of {manifest.chunks} chunks)."
            )
        self.bm25 = load_bm25(directory / "bm25") if self.chunk_rows else None
        self.collection = self._open_collection()

    def _open_collection(self) -> Any:
        if self.manifest.store == "server":
            assert self.server is not None
            return self._server_collection(self.server)
        check_hnsw_files(self.dir)
        with open_lock(self.dir):  # Chroma rewrites its files while opening: one process at a time
            client = chroma_client(self.dir / "chroma")
            collection = client.get_collection(COLLECTION, embedding_function=embedding_function(self.embedder))
            self._verify(collection)
        return collection

    def _server_collection(self, server: ChromaServer) -> Any:
        """The generation's collection on the server; its calls are retried after transient errors."""
        from chromadb.errors import NotFoundError

        try:
            collection = ServerCollection(server, self.manifest.collection, embedding_function(self.embedder))
        except NotFoundError:
            built = self.manifest.chroma_server
            moved = (f" It was built on {built}, and the settings now name {server.location} "
                     "(NEWSDESK_CHROMA_HOST, NEWSDESK_CHROMA_PORT, NEWSDESK_CHROMA_TENANT, NEWSDESK_CHROMA_DATABASE)."
                     if built and built != server.location else "")
            raise IndexDamagedError(
                f"The collection {self.manifest.collection} of index generation {self.dir.name} is missing "
                f"on the Chroma server {server.location}.{moved}"
            ) from None
        self._verify(collection)
        return collection

    def _verify(self, collection: Any) -> None:
        """Chroma holds every chunk, and a sample of stored vectors each finds itself.

        Chroma 1.5.9 does not notice a truncated HNSW segment file: queries silently return wrong
        neighbours or fail later. Searching for a few stored vectors loads the segment now and
        checks it, so a damaged generation is reported at open (and the previous one can serve)."""
        count = collection.count()
        if count != self.manifest.chunks:
            raise IndexDamagedError(
                f"The index generation {self.dir.name} is incomplete ({count} of {self.manifest.chunks} chunks in Chroma)."
            )
        if not self.chunk_rows:
            return
        picks = np.unique(np.linspace(0, len(self.chunk_rows) - 1, min(PROBE_CHUNKS, len(self.chunk_rows))).astype(int))
        ids = [self.chunk_rows[i].id for i in picks]
        got = collection.get(ids=ids, include=["embeddings"])
        if sorted(got["ids"]) != sorted(ids):
            raise IndexDamagedError(f"The index generation {self.dir.name} is missing chunks in Chroma.")
        found = collection.query(query_embeddings=got["embeddings"], n_results=min(PROBE_NEIGHBOURS, count),
                                 include=["distances"])
        for want, near, dist in zip(got["ids"], found["ids"], found["distances"], strict=True):
            if want not in near and not (dist and dist[0] <= 1e-4):
                raise IndexDamagedError(
                    f"The index generation {self.dir.name} has a damaged vector index: stored chunk {want} is not found by its own vector."
                )

    @cached_property
    def columns(self) -> ChunkColumns:
        """Per-chunk publisher, author and date arrays, for filtering the BM25 scores."""
        publishers, authors, dates = [], [], []
        for publisher, author, date_key in self.articles.filter_columns():
            publishers.append(publisher)
            authors.append(author)
            dates.append(date_key)
        of_chunk = np.asarray(self.chunk_rows.article_positions, dtype=np.int64)
        return ChunkColumns(
            np.array(publishers, dtype=object)[of_chunk], np.array(authors, dtype=object)[of_chunk],
            np.array(dates, dtype=np.int64)[of_chunk],
        )

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

    def sentence_vectors_copy(self, chunk_id: str) -> np.ndarray:
        """A chunk's sentence vectors read into memory (float32) without mapping the file: a
        build copying a large generation's vectors then keeps only what it holds at the moment."""
        row = self.chunk_rows.row(chunk_id)
        first, count, dim = row.sentence_start, row.sentence_end - row.sentence_start, self.manifest.dimension
        with (self.dir / "sentences.f16").open("rb") as fh:
            fh.seek(first * dim * 2)
            raw = fh.read(count * dim * 2)
        if len(raw) != count * dim * 2:
            raise IndexDamagedError(f"The index generation {self.dir.name} has a damaged sentence table (sentences.f16).")
        return np.frombuffer(raw, dtype=np.float16).reshape(count, dim).astype(np.float32)

    def sentences(self, chunk_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows of (chunk position, start, end), vectors) of a chunk's sentences."""
        rows = self.chunk_rows.row(chunk_id).sentences
        return self.sentence_rows[rows], self.sentence_vectors[rows]

    def reusable(self, article_id: str) -> Article | None:
        """The stored article for a build to compare against and reuse; None when absent or damaged
        (a damaged one is re-read from the sources and re-encoded, never carried over)."""
        try:
            return self.articles.get(article_id)
        except ArticleDamagedError:
            return None

    def article_chunks(self, article_id: str) -> list[str]:
        _, count = self.articles.chunk_run(article_id)
        return [f"{article_id}#{n}" for n in range(count)]

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """Stored chunk vectors, in the order of ``chunk_ids``."""
        got = self.collection.get(ids=list(chunk_ids), include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        return np.asarray([by_id[c] for c in chunk_ids], dtype=np.float32).reshape(len(chunk_ids), self.manifest.dimension)

    def chunk(self, chunk_id: str) -> Chunk:
        row = self.chunk_rows.row(chunk_id)
        return row.chunk(self.articles[row.article_id].body)

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
        return [(self.chunk_rows[i].id, float(scores[i])) for i in top if scores[i] > 0]


def open_index(
    index_dir: Path, embedder: Embedder, server: ChromaServer | None = None, *, any_store: bool = False,
    damaged: Mapping[str, str] | None = None,
) -> Index:
    """The live generation, checked against the configured model and store (``server``, or None
    for the embedded store). If it is damaged, the newest finished generation that opens serves
    instead and its ``notice`` says so; if none does, an ``IndexDamagedError`` says how to rebuild.
    ``any_store`` also opens a generation of the other store (a rebuild reusing its vectors).
    ``damaged`` names generations already found damaged after they were opened (while answering),
    with what was found: they are not opened again."""
    paths = IndexPaths(index_dir)
    live = paths.live_generation()
    if live is None:
        raise IndexMissingError(f"No index in {index_dir}. {BUILD_HINT}")
    known = damaged or {}
    if live.name in known:
        return _fall_back(paths, live, known[live.name], embedder, server, any_store, known)
    try:
        return _open_generation(live, embedder, server, any_store)
    except (IndexMismatchError, ChromaUnavailableError):
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # Chroma's Rust code raises its own types (a panic is a BaseException)
        refused = open_refused(live, exc)
        if refused:
            raise IndexWriteError(
                f"The index in {index_dir} cannot be opened: {refused}, and the embedded Chroma store writes to its "
                "files when it opens them. Free space or make the directory writable (or keep the vectors on a Chroma "
                "server, NEWSDESK_CHROMA_HOST), then try again."
            ) from exc
        found = damage(live, exc)
    return _fall_back(paths, live, found, embedder, server, any_store, known)


def _fall_back(
    paths: IndexPaths, live: Path, damaged: str, embedder: Embedder, server: ChromaServer | None, any_store: bool,
    known: Mapping[str, str],
) -> Index:
    """The newest finished generation other than the damaged live one (and those in ``known``) that opens."""
    for directory in paths.complete_generations():
        if directory == live or directory.name in known:
            continue
        try:
            index = _open_generation(directory, embedder, server, any_store)
        except ChromaUnavailableError:
            raise
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # an older generation that cannot serve either is skipped
            continue
        index.notice = fallback_notice(damaged, directory.name, index.manifest)
        return index
    raise nothing_serves(damaged)


def _open_generation(directory: Path, embedder: Embedder, server: ChromaServer | None, any_store: bool = False) -> Index:
    manifest = load_manifest(directory)
    check_compatible(directory, manifest, embedder, server, any_store)
    check_format(directory, manifest)
    return Index(directory, embedder, manifest, server if manifest.store == "server" else None)


@dataclass(frozen=True)
class Serving:
    """The generation that answers, judged without loading the model or Chroma (for ``status``)."""

    directory: Path
    manifest: Manifest
    notice: str


def serving_generation(index_dir: Path) -> Serving:
    """The live generation if its manifest and files look whole, else the newest finished one that does
    (with a notice). Chroma-level damage shows only when the index is opened (``open_index``)."""
    paths = IndexPaths(index_dir)
    live = paths.live_generation()
    if live is None:
        raise IndexMissingError(f"No index in {index_dir}. {BUILD_HINT}")
    damaged = ""
    for directory in [live, *(p for p in paths.complete_generations() if p != live)]:
        try:
            manifest = load_manifest(directory)
            check_format(directory, manifest)
            check_files(directory, manifest)
        except IndexDamagedError as exc:
            damaged = damaged or str(exc)
            continue
        return Serving(directory, manifest, fallback_notice(damaged, directory.name, manifest) if damaged else "")
    raise nothing_serves(damaged)
