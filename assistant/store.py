"""The on-disk index: generations of (Chroma collection + BM25 + articles), a manifest, a lock.

Layout under ``index_dir``::

    LIVE                    name of the generation that answers queries (replaced atomically)
    writer.lock             held (flock) by the one process that is writing
    generations/<name>/     chroma/, bm25/, articles/chunks tables (see tables.py), sentences.*, groups.json,
                            store.json (where its vectors live), manifest.json (written last)

A rebuild writes a new generation and only then replaces ``LIVE``; a rebuild that fails or is
killed leaves the previous generation answering. Readers open the generation named in ``LIVE``
with a fresh Chroma client (a process never sees another process's writes to the *same*
directory, so generations are never written in place).

With a Chroma server (``ChromaServer``), each generation's vectors are a collection of their own
on the server (``collection_name``); everything else stays in the generation's directory, and
``LIVE`` switches between them exactly as in the embedded store.
"""

from __future__ import annotations

import errno
import fcntl
import json
import math
import os
import re
import shutil
import socket
import sqlite3
import struct
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .config import Settings
from .dedupe import StoryGroups
from .embedding import Embedder
from .errors import IndexDamagedError, IndexLockedError, IndexMismatchError, IndexMissingError, NewsdeskError
from .lexical import BM25Writer, terms
from .records import Article, Chunk
from .tables import LOOKUP, TableWriter, build_db, open_tables

COLLECTION = "chunks"
CHROMA_MAX_BATCH = 5000
MANIFEST_VERSION = 1
KEEP_GENERATIONS = 2
PROBE_CHUNKS = 8  # stored vectors searched for at open: each must find itself
SERVER_CONNECT_SECONDS = 5.0
SERVER_READ_SECONDS = 60.0


class IndexWriteError(NewsdeskError):
    """The index directory cannot be written (full disk, read-only, no permission)."""

    exit_code = 7


class ChromaUnavailableError(NewsdeskError):
    """The configured Chroma server cannot be reached."""

    exit_code = 8


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
    store: str = "embedded"  # "embedded" (chroma/ in the generation) or "server"
    chroma_server: str = ""  # host:port of the server holding the collection
    collection: str = COLLECTION
    files: dict[str, int] = field(default_factory=dict)  # size of every local file, checked at open

    @property
    def store_description(self) -> str:
        if self.store == "server":
            return f"server {self.chroma_server}/{self.collection}"
        return "embedded"

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

    try:
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    except BaseException:
        _forget_failed_system(str(path))
        raise


def _forget_failed_system(identifier: str) -> None:
    """chromadb 1.5.9 caches a directory's System before starting it; when starting fails (a damaged
    sqlite file, a full or read-only disk) the unstarted System stays cached, and every later client
    for that directory in this process fails with "'RustBindingsAPI' object has no attribute
    'bindings'" — a passing problem would stick until restart. Drop it if no client holds it."""
    from chromadb.api.shared_system_client import SharedSystemClient

    with SharedSystemClient._refcount_lock:
        if SharedSystemClient._identifier_to_refcount.get(identifier, 0) <= 0:
            SharedSystemClient._identifier_to_system.pop(identifier, None)


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


# ---- a Chroma server -----------------------------------------------------------------------


def collection_name(generation: str) -> str:
    """The server collection of a generation: 3–512 characters of [a-zA-Z0-9_-], alphanumeric at both ends."""
    return "newsdesk-" + re.sub(r"[^A-Za-z0-9_-]", "-", generation)


@dataclass(frozen=True)
class ChromaServer:
    """A Chroma server that holds each generation's vectors as a collection of its own."""

    host: str
    port: int = 8000
    ssl: bool = False
    token: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> ChromaServer | None:
        """The configured server, or None for the embedded store."""
        host = settings.chroma_host.strip()
        return cls(host, settings.chroma_port, settings.chroma_ssl, settings.chroma_token) if host else None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def client(self):  # type: ignore[no-untyped-def]
        """A connected client; an unreachable server is a ``ChromaUnavailableError`` naming it."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        auth: dict[str, Any] = {}
        if self.token:
            auth = {
                "chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider",
                "chroma_client_auth_credentials": self.token,  # sent as "Authorization: Bearer <token>"
            }
        try:
            client = chromadb.HttpClient(
                host=self.host, port=self.port, ssl=self.ssl, settings=ChromaSettings(anonymized_telemetry=False, **auth)
            )
        except Exception as exc:  # chromadb raises ValueError, httpx errors and its own
            raise self.unavailable(exc) from None
        _bound_http_timeouts(client)
        return client

    def unavailable(self, exc: BaseException) -> ChromaUnavailableError:
        text = str(exc)
        if re.search(r"unauthori[sz]ed|forbidden|permission", text, re.I):
            detail = "it refused the credentials"
        elif isinstance(exc, ValueError) and len(text) < 200:
            detail = text
        else:
            detail = type(exc).__name__
        return ChromaUnavailableError(
            f"Cannot use the Chroma server at {self.address} ({detail.rstrip('.')}). Start it (for example: "
            f"chroma run --path DIR --host {self.host} --port {self.port}) or check NEWSDESK_CHROMA_HOST, "
            "NEWSDESK_CHROMA_PORT, NEWSDESK_CHROMA_SSL and NEWSDESK_CHROMA_TOKEN."
        )


def _bound_http_timeouts(client: Any) -> None:
    """chromadb's HTTP client waits forever by default; a hung server should fail a request instead."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(SERVER_READ_SECONDS, connect=SERVER_CONNECT_SECONDS)


def _is_connection_error(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, httpx.TransportError) or (isinstance(exc, ValueError) and "connect" in str(exc).lower())


@contextmanager
def _server_calls(server: ChromaServer | None) -> Iterator[None]:
    """Turn a lost connection to the server into a ``ChromaUnavailableError`` naming it."""
    try:
        yield
    except Exception as exc:
        if server is not None and _is_connection_error(exc):
            raise server.unavailable(exc) from None
        raise


def _delete_collection(server: ChromaServer, name: str) -> None:
    """Delete a generation's collection; one that is already gone is fine."""
    from chromadb.errors import NotFoundError

    client = server.client()
    with _server_calls(server), suppress(NotFoundError):
        client.delete_collection(name)


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


@contextmanager
def _open_lock(directory: Path) -> Iterator[None]:
    """Serialise opening one embedded generation across processes.

    Opening a Chroma directory rewrites its segment files in place (measured with chromadb 1.5.9:
    the sqlite file on client creation, the HNSW files on first use), so a process opening — or
    copying — a generation while another opens it could read a half-written file. Held only while
    opening or copying; queries afterwards do not write.
    """
    try:
        fd = os.open(directory / "open.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # a read-only directory: nobody can rewrite it either
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


def _write_failure(exc: BaseException) -> str | None:
    """Why writing a generation failed, if the file system refused a write (ours) or Chroma failed to write.

    Chroma does not always say why: on a full disk chromadb 1.5.9 raised "database or disk is full"
    at some points and "Error in compaction: Failed to apply logs to the metadata segment" at others,
    so every Chroma error during a build is reported (with the free space) rather than guessed at."""
    if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
        return os.strerror(exc.errno or 0)
    if type(exc).__module__.split(".")[0] in ("chromadb", "pyo3_runtime"):
        first_line = (str(exc).strip().splitlines() or [""])[0][:200]
        return f"Chroma could not write the new generation ({type(exc).__name__}: {first_line})"
    return None


def _free_space(path: Path) -> str:
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return "unknown"
    return f"{free / 2**20:.1f} MB" if free >= 2**20 else f"{free // 1024} KB"


@contextmanager
def writing(paths: IndexPaths) -> Iterator[None]:
    """Report a full, read-only or forbidden index directory, or Chroma failing to write, as an ``IndexWriteError``.

    Builds remove their unfinished generation before this sees the error, so the live one is unchanged."""
    try:
        yield
    except (NewsdeskError, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        reason = _write_failure(exc)
        if reason is None:
            raise
        live = paths.live_generation()
        raise IndexWriteError(
            f"Cannot write the index in {paths.root}: {reason}; {_free_space(paths.root)} free on its disk. "
            + (f"The live index (generation {live.name}) is unchanged. " if live else "No index was built. ")
            + "Free space or make the directory writable (or set NEWSDESK_INDEX_DIR), then try again."
        ) from exc


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# ---- records on disk -----------------------------------------------------------------------


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
        if self.server is not None:
            store = {"store": "server", "chroma_server": self.server.address, "collection": collection_name(self.name)}
        else:
            store = {"store": "embedded", "chroma_server": "", "collection": COLLECTION}
        _write_atomic(self.dir / "store.json", json.dumps(store))  # before the collection exists: cleanup finds it
        self.store = store
        if self.server is not None:
            self._client = self.server.client()
            self._collection_requested = True
            with _server_calls(self.server):
                self.collection = self._client.create_collection(
                    store["collection"], embedding_function=embedding_function(self.embedder),
                    configuration={"hnsw": {"space": "cosine"}},
                )
        elif base is not None and base.manifest.store == "embedded":
            with _open_lock(base.dir):
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
        self._sentence_vectors = self._file("sentences.f16", "wb")
        self._sentence_rows = self._file("sentences.i32", "wb")

    def _file(self, name: str, mode: str) -> Any:
        fh = (self.dir / name).open(mode, encoding="utf-8") if "b" not in mode else (self.dir / name).open(mode)
        self._files.append(fh)
        return fh

    def holds(self, chunk_id: str) -> bool:
        """Is this chunk already stored in the new generation's collection (copied from the base)?"""
        if self._base is None:
            return False
        return self._base.execute("SELECT 1 FROM base WHERE id = ?", (chunk_id,)).fetchone() is not None

    def add_article(self, article: Article) -> None:
        self._tables.add_article(article)

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
        todo = [i for i in range(len(chunks)) if not (stored and stored[i] and self.holds(chunks[i].id))]
        for i in range(0, len(todo), CHROMA_MAX_BATCH):
            part = todo[i : i + CHROMA_MAX_BATCH]
            with _server_calls(self.server):
                self.collection.upsert(
                    ids=[chunks[j].id for j in part],
                    embeddings=vectors[part],
                    documents=[chunks[j].text for j in part],
                    metadatas=[metadatas[j] for j in part],
                )
        if self._base is not None:
            self._base.executemany("UPDATE base SET written = 1 WHERE id = ?", [(c.id,) for c in chunks])
        for c, spans, svecs in zip(chunks, sentences, sentence_vectors, strict=True):
            first = self.sentences_written
            rows = np.array([(self.chunks_written, s, e) for s, e in spans], dtype=np.int32).reshape(-1, 3)
            self._sentence_rows.write(rows.tobytes())
            self._sentence_vectors.write(np.asarray(svecs, dtype=np.float16).reshape(-1, self.embedder.dimension).tobytes())
            self.sentences_written += len(spans)
            row = {"id": c.id, "article_id": c.article_id, "ordinal": c.ordinal, "start": c.start, "end": c.end,
                   "s0": first, "s1": self.sentences_written}
            self._tables.add_chunk(row)
            self.chunks_written += 1
        for text in lexical:
            self._bm25.add(terms(text))

    def finish(self, manifest: Manifest, groups: StoryGroups) -> None:
        """Flush everything and close Chroma; the manifest is written last and marks the generation complete."""
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
        self._close_client()  # the embedded store writes its segment files when closed
        manifest = replace(
            manifest, store=self.store["store"], chroma_server=self.store["chroma_server"], collection=self.store["collection"],
            files=_local_files(self.dir),
        )
        _write_atomic(self.dir / "manifest.json", json.dumps(asdict(manifest), indent=2, ensure_ascii=False))

    def _close_client(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            with suppress(Exception):
                client.close()

    def publish(self) -> list[str]:
        """Make this generation live, then prune old ones. Returns problems met while pruning:
        once ``LIVE`` names this generation the build has succeeded, whatever pruning meets."""
        _write_atomic(self.paths.live, self.name + "\n")
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


def _local_files(directory: Path) -> dict[str, int]:
    """Size of every file of a generation outside Chroma's own directory (which Chroma rewrites)."""
    skip = {"manifest.json", "open.lock"}
    return {
        str(p.relative_to(directory)): p.stat().st_size
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name not in skip and p.relative_to(directory).parts[0] != "chroma"
    }


def _store_of(directory: Path) -> dict[str, str]:
    """Where a generation's vectors live, from ``store.json`` (older generations: embedded)."""
    try:
        data = json.loads((directory / "store.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"store": "embedded", "chroma_server": "", "collection": COLLECTION}
    return data if isinstance(data, dict) else {"store": "embedded"}


def _remove_generation(directory: Path, server: ChromaServer | None) -> bool:
    """Delete a generation: its server collection first (if any), then its directory.

    A generation on a server that is not configured, or not reachable, is left for a later
    writer that can reach it (removing the directory would orphan the collection)."""
    store = _store_of(directory)
    if store.get("store") == "server":
        if server is None:
            return False
        try:
            _delete_collection(server, store.get("collection") or collection_name(directory.name))
        except ChromaUnavailableError:
            return False
    shutil.rmtree(directory, ignore_errors=True)
    return True


def _remove_unfinished(paths: IndexPaths, server: ChromaServer | None = None) -> None:
    """Leftovers of killed builds (no manifest). Only called under the writer lock."""
    if paths.generations.is_dir():
        for p in paths.generations.iterdir():
            if p.is_dir() and not (p / "manifest.json").is_file() and p != paths.live_generation():
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


# ---- reading the live generation -----------------------------------------------------------


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
        self.bm25 = _load_bm25(directory / "bm25") if self.chunk_rows else None
        self.collection = self._open_collection()

    def _open_collection(self) -> Any:
        if self.manifest.store == "server":
            assert self.server is not None
            return self._server_collection(self.server)
        check_hnsw_files(self.dir)
        with _open_lock(self.dir):  # Chroma rewrites its files while opening: one process at a time
            client = chroma_client(self.dir / "chroma")
            collection = client.get_collection(COLLECTION, embedding_function=embedding_function(self.embedder))
            self._verify(collection)
        return collection

    def _server_collection(self, server: ChromaServer) -> Any:
        from chromadb.errors import NotFoundError

        client = server.client()
        with _server_calls(server):
            try:
                collection = client.get_collection(self.manifest.collection, embedding_function=embedding_function(self.embedder))
            except NotFoundError:
                raise IndexDamagedError(
                    f"The collection {self.manifest.collection} of index generation {self.dir.name} is missing "
                    f"on the Chroma server {server.address}."
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
        ids = [self.chunk_rows[i]["id"] for i in picks]
        got = collection.get(ids=ids, include=["embeddings"])
        if sorted(got["ids"]) != sorted(ids):
            raise IndexDamagedError(f"The index generation {self.dir.name} is missing chunks in Chroma.")
        found = collection.query(query_embeddings=got["embeddings"], n_results=min(10, count), include=["distances"])
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
        first, count, dim = int(row["s0"]), int(row["s1"]) - int(row["s0"]), self.manifest.dimension
        with (self.dir / "sentences.f16").open("rb") as fh:
            fh.seek(first * dim * 2)
            raw = fh.read(count * dim * 2)
        if len(raw) != count * dim * 2:
            raise IndexDamagedError(f"The index generation {self.dir.name} has a damaged sentence table (sentences.f16).")
        return np.frombuffer(raw, dtype=np.float16).reshape(count, dim).astype(np.float32)

    def sentences(self, chunk_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows of (chunk position, start, end), vectors) of a chunk's sentences."""
        row = self.chunk_rows.row(chunk_id)
        return self.sentence_rows[row["s0"] : row["s1"]], self.sentence_vectors[row["s0"] : row["s1"]]

    def article_chunks(self, article_id: str) -> list[str]:
        _, count = self.articles.chunk_run(article_id)
        return [f"{article_id}#{n}" for n in range(count)]

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """Stored chunk vectors, in the order of ``chunk_ids``."""
        with _server_calls(self.server):
            got = self.collection.get(ids=list(chunk_ids), include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        return np.asarray([by_id[c] for c in chunk_ids], dtype=np.float32).reshape(len(chunk_ids), self.manifest.dimension)

    def chunk(self, chunk_id: str) -> Chunk:
        row = self.chunk_rows.row(chunk_id)
        body = self.articles[row["article_id"]].body
        return Chunk(row["article_id"], row["ordinal"], row["start"], row["end"], body[row["start"] : row["end"]])

    def dense(self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks."""
        n = min(n, self.manifest.chunks)
        if n <= 0:
            return []
        with _server_calls(self.server):
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


REBUILD_HINT = "Rebuild it with: newsdesk index rebuild PATH"


def open_index(index_dir: Path, embedder: Embedder, server: ChromaServer | None = None, *, any_store: bool = False) -> Index:
    """The live generation, checked against the configured model and store (``server``, or None
    for the embedded store). If it is damaged, the newest finished generation that opens serves
    instead and its ``notice`` says so; if none does, an ``IndexDamagedError`` says how to rebuild.
    ``any_store`` also opens a generation of the other store (a rebuild reusing its vectors)."""
    paths = IndexPaths(index_dir)
    live = paths.live_generation()
    if live is None:
        raise IndexMissingError(
            f"No index in {index_dir}. Build one with: newsdesk index rebuild PATH (for example: newsdesk index rebuild seeds/)"
        )
    try:
        return _open_generation(live, embedder, server, any_store)
    except (IndexMismatchError, ChromaUnavailableError):
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # Chroma's Rust code raises its own types (a panic is a BaseException)
        refused = _open_refused(live, exc)
        if refused:
            raise IndexWriteError(
                f"The index in {index_dir} cannot be opened: {refused}, and the embedded Chroma store writes to its "
                "files when it opens them. Free space or make the directory writable (or keep the vectors on a Chroma "
                "server, NEWSDESK_CHROMA_HOST), then try again."
            ) from exc
        damage = _damage(live, exc)
    for directory in paths.complete_generations():
        if directory == live:
            continue
        try:
            index = _open_generation(directory, embedder, server, any_store)
        except ChromaUnavailableError:
            raise
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # an older generation that cannot serve either is skipped
            continue
        index.notice = _fallback_notice(damage, directory.name, index.manifest)
        return index
    raise IndexDamagedError(f"{damage} No earlier generation can answer instead. {REBUILD_HINT}")


_DISK_FULL = re.compile(r"disk is full|no space left|os error 28\b", re.I)


def _open_refused(directory: Path, exc: BaseException) -> str:
    """Why an undamaged embedded generation could not be opened, if the file system refused Chroma's writes."""
    if not (directory / "chroma").is_dir():
        return ""
    if not os.access(directory / "chroma", os.W_OK):
        return "its directory is read-only"
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or _DISK_FULL.search(str(exc)):
        return f"its disk is full ({_free_space(directory)} free)"
    return ""


def _damage(directory: Path, exc: BaseException) -> str:
    if isinstance(exc, IndexDamagedError):
        return str(exc)
    first_line = (str(exc).strip().splitlines() or [""])[0][:160]
    return f"The index generation {directory.name} is damaged or unreadable ({type(exc).__name__}: {first_line})."


def _fallback_notice(damage: str, name: str, manifest: Manifest) -> str:
    return f"{damage} Answering from the previous generation {name} (built {manifest.built_at}). {REBUILD_HINT}"


def _open_generation(directory: Path, embedder: Embedder, server: ChromaServer | None, any_store: bool = False) -> Index:
    manifest = _load_manifest(directory)
    if manifest.model_id != embedder.model_id or manifest.dimension != embedder.dimension:
        raise IndexMismatchError(
            f"The index in {directory.parent.parent} was built with {manifest.model_id} ({manifest.dimension} dimensions), "
            f"but the configured model is {embedder.model_id} ({embedder.dimension} dimensions). "
            "Rebuild the index with the configured model (newsdesk index rebuild PATH) or set NEWSDESK_EMBED_MODEL "
            f"to {manifest.model_id}."
        )
    if manifest.store == "server" and server is None:
        raise IndexMismatchError(
            f"The index in {directory.parent.parent} keeps its vectors on the Chroma server {manifest.chroma_server} "
            f"(collection {manifest.collection}). Set NEWSDESK_CHROMA_HOST and NEWSDESK_CHROMA_PORT to that server, "
            "or rebuild the index in the embedded store with: newsdesk index rebuild PATH"
        )
    if manifest.store != "server" and server is not None and not any_store:
        raise IndexMismatchError(
            f"The index in {directory.parent.parent} uses the embedded Chroma store, but NEWSDESK_CHROMA_HOST names "
            f"the server {server.address}. Rebuild the index on the server (newsdesk index rebuild PATH) "
            "or unset NEWSDESK_CHROMA_HOST."
        )
    check_format(directory, manifest)
    return Index(directory, embedder, manifest, server if manifest.store == "server" else None)


def check_format(directory: Path, manifest: Manifest) -> None:
    """Refuse, with what to do, a generation written before articles and chunks were read from disk by offset."""
    if manifest.files and LOOKUP not in manifest.files:
        raise IndexMismatchError(
            f"The index in {directory.parent.parent} was written by an earlier version of newsdesk (generation "
            f"{directory.name} has no {LOOKUP}). Rebuild it with: newsdesk index rebuild PATH"
        )


def _load_manifest(directory: Path) -> Manifest:
    path = directory / "manifest.json"
    if not path.is_file():
        raise IndexDamagedError(f"The index generation {directory.name} has no manifest (an unfinished build).")
    try:
        return Manifest.load(path)
    except (ValueError, TypeError) as exc:
        raise IndexDamagedError(f"The index generation {directory.name} has a damaged manifest.json.") from exc


def check_files(directory: Path, manifest: Manifest) -> None:
    """Every local file of the generation exists with the size it had when the build finished."""
    for name, size in manifest.files.items():
        try:
            actual = (directory / name).stat().st_size
        except FileNotFoundError:
            raise IndexDamagedError(f"The index generation {directory.name} is missing its file {name}.") from None
        if actual != size:
            raise IndexDamagedError(
                f"The index generation {directory.name} has a damaged file: {name} is {actual} bytes, {size} when built."
            )
    if manifest.store != "server" and not (directory / "chroma" / "chroma.sqlite3").is_file():
        raise IndexDamagedError(f"The index generation {directory.name} is missing its Chroma database.")


HNSW_HEADER = struct.Struct("<iQQQQQQiIQQQdQ")  # hnswlib's persisted header as chromadb 1.5.9 writes it (100 bytes)


def check_hnsw_files(directory: Path) -> None:
    """Chroma's HNSW segment files are as long as their header says.

    Measured with chromadb 1.5.9: opening a collection whose data_level0.bin was truncated crashed
    the process with a segmentation fault in 3 of 4 runs (and returned wrong neighbours or errors in
    the others) — no Python error to catch, so a damaged live generation would crash the app at every
    start. The files are checked before Chroma reads them: the header gives the element count and
    size, and data_level0.bin and length.bin must hold at least that many elements (link_lists.bin
    has no length to check against). A header in another layout (another chromadb) is not judged."""
    for header_path in sorted((directory / "chroma").glob("*/header.bin")):
        segment = header_path.parent
        header = header_path.read_bytes()
        if len(header) != HNSW_HEADER.size:
            raise IndexDamagedError(f"The index generation {directory.name} has a damaged vector index file ({segment.name}/header.bin).")
        version, _, _, count, per_element, *_ = HNSW_HEADER.unpack(header)
        if version != 1 or not 0 < per_element < 2**24:
            continue
        needs = {"data_level0.bin": count * per_element, "length.bin": count * 4}  # vectors and links; a float each
        for name, size in needs.items():
            path = segment / name
            have = path.stat().st_size if path.is_file() else -1
            if have < size:
                raise IndexDamagedError(
                    f"The index generation {directory.name} has a damaged vector index file "
                    f"({segment.name}/{name} is {max(have, 0)} bytes; its header needs {size})."
                )


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
        raise IndexMissingError(
            f"No index in {index_dir}. Build one with: newsdesk index rebuild PATH (for example: newsdesk index rebuild seeds/)"
        )
    damage = ""
    for directory in [live, *(p for p in paths.complete_generations() if p != live)]:
        try:
            manifest = _load_manifest(directory)
            check_format(directory, manifest)
            check_files(directory, manifest)
        except IndexDamagedError as exc:
            damage = damage or str(exc)
            continue
        return Serving(directory, manifest, _fallback_notice(damage, directory.name, manifest) if damage else "")
    raise IndexDamagedError(f"{damage} No earlier generation can answer instead. {REBUILD_HINT}")
