"""Chroma: clients for the embedded store and for a server, our encoder wrapped for Chroma, and the
metadata contract — what each chunk carries (``chunk_metadata``) and the filters that query it
(``chroma_where``) — kept side by side so the two halves cannot drift apart."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings, redact_url
from ..embedding import Embedder
from ..errors import ChromaUnavailableError, NewsdeskError
from ..records import Article, Chunk, Filters, date_key

COLLECTION = "chunks"
SERVER_CONNECT_SECONDS = 5.0
SERVER_READ_SECONDS = 60.0


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
        """host:port as shown and recorded (manifest, store.json), credentials in the host masked."""
        return redact_url(f"{self.host}:{self.port}", bare=True)

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
def server_calls(server: ChromaServer | None) -> Iterator[None]:
    """Turn a lost connection to the server into a ``ChromaUnavailableError`` naming it."""
    try:
        yield
    except Exception as exc:
        if server is not None and _is_connection_error(exc):
            raise server.unavailable(exc) from None
        raise


def delete_collection(server: ChromaServer, name: str) -> None:
    """Delete a generation's collection; one that is already gone is fine."""
    from chromadb.errors import NotFoundError

    client = server.client()
    with server_calls(server), suppress(NotFoundError):
        client.delete_collection(name)


# ---- where a generation's vectors live -----------------------------------------------------

STORE_FILE = "store.json"


@dataclass(frozen=True)
class StoreLocation:
    """Where a generation's vectors live: the embedded store (``chroma/`` in the generation), or a
    collection of its own on a Chroma server. Written to ``store.json`` before the collection exists,
    so that removing an unfinished generation finds its collection."""

    kind: str  # "embedded" or "server" (the manifest's ``store``)
    chroma_server: str = ""  # host:port of the server holding the collection
    collection: str = COLLECTION

    @classmethod
    def embedded(cls) -> StoreLocation:
        return cls("embedded", "", COLLECTION)

    @classmethod
    def for_generation(cls, generation: str, server: ChromaServer | None) -> StoreLocation:
        """Where a new generation's vectors go: ``server`` (None: the embedded store)."""
        return cls.embedded() if server is None else cls("server", server.address, collection_name(generation))

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
