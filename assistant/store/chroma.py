"""Chroma: the embedded store's client, our encoder wrapped for Chroma, where a generation's vectors live
(the embedded store, or a collection on a server — the server itself is ``server``), and the metadata
contract — what each chunk carries (``chunk_metadata``) and the filters that query it (``chroma_where``)
— kept side by side so the two halves cannot drift apart."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..embedding import Embedder
from ..errors import NewsdeskError
from ..records import Article, Chunk, Filters, date_key
from .server import ChromaServer  # (and re-exported: the store imports it from here)

COLLECTION = "chunks"


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


# ---- where a generation's vectors live -----------------------------------------------------


def collection_name(generation: str) -> str:
    """The server collection of a generation: 3–512 characters of [a-zA-Z0-9_-], alphanumeric at both ends."""
    return "newsdesk-" + re.sub(r"[^A-Za-z0-9_-]", "-", generation)


STORE_FILE = "store.json"


@dataclass(frozen=True)
class StoreLocation:
    """Where a generation's vectors live: the embedded store (``chroma/`` in the generation), or a
    collection of its own on a Chroma server. Written to ``store.json`` before the collection exists,
    so that removing an unfinished generation finds its collection."""

    kind: str  # "embedded" or "server" (the manifest's ``store``)
    chroma_server: str = ""  # host:port of the server holding the collection, then /tenant/database if not the defaults
    collection: str = COLLECTION

    @classmethod
    def embedded(cls) -> StoreLocation:
        return cls("embedded", "", COLLECTION)

    @classmethod
    def for_generation(cls, generation: str, server: ChromaServer | None) -> StoreLocation:
        """Where a new generation's vectors go: ``server`` (None: the embedded store)."""
        return cls.embedded() if server is None else cls("server", server.location, collection_name(generation))

    @property
    def on_server(self) -> bool:
        return self.kind == "server"

    def to_json(self) -> str:
        return json.dumps({"store": self.kind, "chroma_server": self.chroma_server, "collection": self.collection})

    @classmethod
    def read(cls, directory: Path) -> StoreLocation:
        """A generation's ``store.json`` (older generations, and unreadable files: embedded)."""
        try:
            data = json.loads((directory / STORE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls.embedded()
        if not isinstance(data, dict) or data.get("store") != "server":
            return cls.embedded()
        return cls("server", str(data.get("chroma_server") or ""), str(data.get("collection") or collection_name(directory.name)))


# ---- the metadata contract: what a chunk carries, and how a search filters on it -------------


def chunk_metadata(article: Article, chunk: Chunk) -> dict[str, Any]:
    """The metadata stored with a chunk's vector (``chroma_where`` filters on it)."""
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


def chroma_where(filters: Filters) -> dict[str, Any] | None:
    """The Chroma ``where`` clause of ``filters`` over the fields ``chunk_metadata`` writes (None: no filter)."""
    conditions: list[dict[str, Any]] = []
    if filters.publishers:
        conditions.append({"publisher": {"$in": list(filters.publishers)}})
    if filters.authors:
        conditions.append({"author": {"$in": list(filters.authors)}})
    if filters.since:
        conditions.append({"date": {"$gte": date_key(filters.since)}})
    if filters.until:
        conditions.append({"date": {"$lte": date_key(filters.until)}})
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}
