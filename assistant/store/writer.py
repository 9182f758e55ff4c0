"""Writing a generation, making it live, and removing old or unfinished ones (with their server collections).

A rebuild writes a new generation and only then replaces ``LIVE``; a rebuild that fails or is
killed leaves the previous generation answering. Use ``GenerationWriter`` only under ``writer_lock``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..builddb import build_db
from ..dedupe import StoryGroups
from ..embedding import Embedder
from ..errors import ChromaUnavailableError, IndexWriteError
from ..lexical import terms
from ..records import Article, Chunk
from .bm25 import BM25Writer
from .chroma import COLLECTION, STORE_FILE, StoreLocation, chroma_client, chunk_metadata, embedding_function
from .manifest import MANIFEST_FILE, Manifest, local_digests, local_files
from .paths import IndexPaths, open_lock, write_atomic
from .reader import Index
from .server import ChromaServer, ServerCollection, delete_collection
from .tables import ChunkRow, TableWriter

CHROMA_MAX_BATCH = 5000
KEEP_GENERATIONS = 2


@dataclass(frozen=True, eq=False)
class ChunkBatch:
    """Chunks handed to ``GenerationWriter.add_chunks``, column by column: entry ``i`` of every
    column belongs to ``chunks[i]``."""

    articles: Sequence[Article]  # each chunk's article (its Chroma metadata comes from it)
    chunks: Sequence[Chunk]
    vectors: np.ndarray  # one chunk vector per row (rows of chunks the collection already holds are not read)
    lexical: Sequence[str]  # the text BM25 indexes for each chunk
    sentences: Sequence[Sequence[tuple[int, int]]]  # each chunk's sentence spans (body offsets)
    sentence_vectors: Sequence[np.ndarray]  # each chunk's sentence vectors, one row per span
    stored: Sequence[bool] = ()  # chunks already in the copied collection unchanged (not re-written); empty: none

    def __post_init__(self) -> None:
        columns = (self.articles, self.vectors, self.lexical, self.sentences, self.sentence_vectors)
        if any(len(c) != len(self.chunks) for c in columns) or (self.stored and len(self.stored) != len(self.chunks)):
            raise ValueError("every column of a chunk batch needs one entry per chunk")

    def __len__(self) -> int:
        return len(self.chunks)


class GenerationWriter:
    """Writes one new generation; ``publish`` makes it live. Use only under ``writer_lock``."""

    def __init__(
        self, paths: IndexPaths, embedder: Embedder, base: Index | None = None, server: ChromaServer | None = None
    ) -> None:
        """A new generation, its vectors in ``chroma/`` or, with ``server``, in a new collection there.

        With ``base`` (an update) in the embedded store it starts from a copy of that generation's
        Chroma directory, so unchanged chunks are neither re-encoded nor re-written. A server cannot
        copy a collection: there the update re-adds the unchanged chunks' stored vectors.
        """
        self.paths = paths
        self.server = server
        _remove_unfinished(paths, server)
        now = time.time_ns()
        self.name = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9)) + f".{now % 10**9:09d}-{os.getpid()}"
        self.dir = paths.generations / self.name
        self.embedder = embedder
        self.location = StoreLocation.for_generation(self.name, server)
        self._base: sqlite3.Connection | None = None  # an update's copied chunk ids, and which were written again
        self.chunks_written = 0
        self.sentences_written = 0
        self.published = False
        self._files: list[Any] = []
        self._client: Any = None
        self._collection_requested = False  # on a server: a collection may exist and must be deleted with us
        self.dir.mkdir(parents=True)
        try:
            self._open(base)
        except BaseException:
            self.abandon()
            raise

    def _open(self, base: Index | None) -> None:
        write_atomic(self.dir / STORE_FILE, self.location.to_json())  # before the collection exists: cleanup finds it
        if self.server is not None:
            client = self.server.client()  # unreachable: nothing was created, so nothing is left to delete
            self._collection_requested = True
            # get-or-create: a try whose answer was lost may have made it already (the name is this generation's alone)
            self.collection = ServerCollection(
                self.server, self.location.collection, embedding_function(self.embedder), create=True, client=client
            )
            self._client = self.collection  # closed like a client: it closes the clients it made
        elif base is not None and base.manifest.store == "embedded":
            with open_lock(base.dir):
                shutil.copytree(base.dir / "chroma", self.dir / "chroma")
            self._client = chroma_client(self.dir / "chroma")
            self.collection = self._client.get_collection(COLLECTION, embedding_function=embedding_function(self.embedder))
            self._base = _base_ids(self.collection, self.dir / "build-base.sqlite")
        else:
            self._client = chroma_client(self.dir / "chroma")
            self.collection = self._client.create_collection(
                COLLECTION, embedding_function=embedding_function(self.embedder), configuration={"hnsw": {"space": "cosine"}}
            )
        self._tables = TableWriter(self.dir)
        self._bm25 = BM25Writer(self.dir / "bm25")
        self._sentence_vectors = self._file("sentences.f16")
        self._sentence_rows = self._file("sentences.i32")

    def _file(self, name: str) -> Any:
        fh = (self.dir / name).open("wb")
        self._files.append(fh)
        return fh

    def holds(self, chunk_id: str) -> bool:
        """Is this chunk already stored in the new generation's collection (copied from the base)?"""
        if self._base is None:
            return False
        return self._base.execute("SELECT 1 FROM base WHERE id = ?", (chunk_id,)).fetchone() is not None

    def add_article(self, article: Article) -> None:
        self._tables.add_article(article)

    def add_chunks(self, batch: ChunkBatch) -> None:
        """Store chunks with their vectors, sentences and BM25 text; chunks marked ``stored`` that the
        copied collection holds are not written to Chroma again."""
        chunks, stored = batch.chunks, batch.stored
        todo = [i for i in range(len(chunks)) if not (stored and stored[i] and self.holds(chunks[i].id))]
        for i in range(0, len(todo), CHROMA_MAX_BATCH):
            part = todo[i : i + CHROMA_MAX_BATCH]
            self.collection.upsert(  # upsert: a retried or re-run batch leaves one copy of each chunk
                ids=[chunks[j].id for j in part],
                embeddings=batch.vectors[part],
                documents=[chunks[j].text for j in part],
                metadatas=[chunk_metadata(batch.articles[j], chunks[j]) for j in part],
            )
        if self._base is not None:
            self._base.executemany("UPDATE base SET written = 1 WHERE id = ?", [(c.id,) for c in chunks])
        for c, spans, svecs in zip(chunks, batch.sentences, batch.sentence_vectors, strict=True):
            first = self.sentences_written
            rows = np.array([(self.chunks_written, s, e) for s, e in spans], dtype=np.int32).reshape(-1, 3)
            self._sentence_rows.write(rows.tobytes())
            self._sentence_vectors.write(np.asarray(svecs, dtype=np.float16).reshape(-1, self.embedder.dimension).tobytes())
            self.sentences_written += len(spans)
            self._tables.add_chunk(ChunkRow(c.id, c.article_id, c.ordinal, c.start, c.end, first, self.sentences_written))
            self.chunks_written += 1
        for text in batch.lexical:
            self._bm25.add(terms(text))

    def finish(self, manifest: Manifest, groups: StoryGroups) -> None:
        """Flush everything and close Chroma; the manifest is written last and marks the generation complete.

        An error while closing Chroma fails the build (``IndexWriteError``): the embedded store writes
        its segment files when closed, so a generation whose close failed may lack vectors."""
        groups.save(self.dir / "groups.json")
        if self._base is not None:  # delete the copied chunks of removed or shortened articles
            stale = self._base.execute("SELECT id FROM base WHERE written = 0 ORDER BY id")
            while part := [row[0] for row in stale.fetchmany(CHROMA_MAX_BATCH)]:
                self.collection.delete(ids=part)
            self._base.close()
            self._base = None
            (self.dir / "build-base.sqlite").unlink()
        for fh in self._files:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        self._tables.finish()
        self._bm25.finish()
        self._close_client(strict=True)  # the embedded store writes its segment files when closed
        location = self.location
        files = local_files(self.dir)
        manifest = replace(
            manifest, store=location.kind, chroma_server=location.chroma_server, collection=location.collection,
            files=files, digests=local_digests(self.dir, list(files)),
        )
        write_atomic(self.dir / MANIFEST_FILE, json.dumps(asdict(manifest), indent=2, ensure_ascii=False))

    def _close_client(self, strict: bool = False) -> None:
        """Close Chroma; with ``strict`` (before the manifest) a failure is an ``IndexWriteError``, else ignored."""
        if self._client is None:
            return
        client, self._client = self._client, None
        try:
            client.close()
        except Exception as exc:
            if not strict:
                return
            live = self.paths.live_generation()
            first_line = (str(exc).strip().splitlines() or [""])[0][:200]
            raise IndexWriteError(
                f"Chroma failed to close the new index generation {self.name} ({type(exc).__name__}: {first_line}), "
                "so its vectors may not all be written; it was not published. "
                + (f"The live index (generation {live.name}) is unchanged. " if live else "No index was built. ")
                + f"Check the disk of {self.paths.root}, then try again."
            ) from exc

    def publish(self) -> list[str]:
        """Make this generation live, then prune old ones. Returns problems met while pruning:
        once ``LIVE`` names this generation the build has succeeded, whatever pruning meets."""
        write_atomic(self.paths.live, self.name + "\n")
        self.published = True
        return prune_generations(self.paths, server=self.server)

    def abandon(self) -> None:
        """Remove this unfinished generation (never once published); best effort, as the disk may be full."""
        if self.published:
            return
        for fh in self._files:
            with suppress(OSError, ValueError):
                fh.close()
        for part in ("_bm25", "_tables"):  # each closed even when the other fails
            with suppress(OSError, ValueError, AttributeError, sqlite3.Error):
                getattr(self, part).close()
        if self._base is not None:
            with suppress(sqlite3.Error):
                self._base.close()
        self._close_client()
        if self.server is not None and not self._collection_requested:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            _remove_generation(self.dir, self.server)


def _base_ids(collection: Any, path: Path) -> sqlite3.Connection:
    """The ids of a copied collection, paged out of Chroma into a scratch SQLite table."""
    db = build_db(path, "CREATE TABLE base (id TEXT PRIMARY KEY, written INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;")
    offset = 0
    while ids := collection.get(include=[], limit=CHROMA_MAX_BATCH, offset=offset)["ids"]:
        db.executemany("INSERT OR IGNORE INTO base (id) VALUES (?)", [(i,) for i in ids])
        offset += len(ids)
    return db


# ---- removing generations ------------------------------------------------------------------


def _remove_generation(directory: Path, server: ChromaServer | None) -> bool:
    """Delete a generation: its server collection first (if any), then its directory.

    A generation on a server that is not configured, or not reachable, is left for a later
    writer that can reach it (removing the directory would orphan the collection)."""
    location = StoreLocation.read(directory)
    if location.on_server:
        if server is None:
            return False
        try:
            delete_collection(server, location.collection)
        except ChromaUnavailableError:
            return False
    shutil.rmtree(directory, ignore_errors=True)
    return True


def _remove_unfinished(paths: IndexPaths, server: ChromaServer | None = None) -> None:
    """Leftovers of killed builds (no manifest). Only called under the writer lock."""
    if paths.generations.is_dir():
        for p in paths.generations.iterdir():
            if p.is_dir() and not (p / MANIFEST_FILE).is_file() and p != paths.live_generation():
                _remove_generation(p, server)


def prune_generations(paths: IndexPaths, keep: int = KEEP_GENERATIONS, server: ChromaServer | None = None) -> list[str]:
    """Remove unfinished generations and all but the newest ``keep`` finished ones (never the live one),
    with their server collections. Returns the generations that could not be removed, and why."""
    live = paths.live_generation()
    complete = paths.complete_generations()
    keep_set = {p.name for p in complete[:keep]} | ({live.name} if live else set())
    left: list[str] = []
    for p in paths.generations.iterdir():
        if p.is_dir() and p.name not in keep_set and not _remove_generation(p, server):
            left.append(f"generation {p.name} was kept: its collection is on a Chroma server that could not be reached")
    return left
