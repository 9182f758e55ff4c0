"""A generation's manifest: what built it and what it holds, written last (its presence marks a
finished generation), and the checks that it can serve with the configured model and store."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..embedding import Embedder
from ..errors import REBUILD_COMMAND, IndexDamagedError, IndexMismatchError, MismatchCause
from .chroma import COLLECTION, ChromaServer

MANIFEST_VERSION = 1
MANIFEST_FILE = "manifest.json"


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
    digests: dict[str, str] = field(default_factory=dict)  # SHA-256 of every local file (empty: written before digests)
    built_with: dict[str, Any] = field(default_factory=dict)  # on a Ray cluster: {"ray": its address (credentials
    # masked), "encoders": actors}; empty: built in one process (and by versions before Ray builds)

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


def load_manifest(directory: Path) -> Manifest:
    """A generation's manifest; a missing or unreadable one is damage (an unfinished build, a broken file)."""
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise IndexDamagedError(f"The index generation {directory.name} has no manifest (an unfinished build).")
    try:
        return Manifest.load(path)
    except (ValueError, TypeError) as exc:
        raise IndexDamagedError(f"The index generation {directory.name} has a damaged manifest.json.") from exc


def local_files(directory: Path) -> dict[str, int]:
    """Size of every file of a generation outside Chroma's own directory (which Chroma rewrites)."""
    skip = {MANIFEST_FILE, "open.lock"}
    return {
        str(p.relative_to(directory)): p.stat().st_size
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name not in skip and p.relative_to(directory).parts[0] != "chroma"
    }


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB pieces."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while piece := fh.read(1 << 20):
            h.update(piece)
    return h.hexdigest()


def local_digests(directory: Path, names: list[str]) -> dict[str, str]:
    """SHA-256 of each of ``names`` (files of the generation, as ``local_files`` lists them)."""
    return {name: file_digest(directory / name) for name in names}


def check_compatible(
    directory: Path, manifest: Manifest, embedder: Embedder, server: ChromaServer | None, any_store: bool = False
) -> None:
    """Refuse, saying what to do, a generation built with another model or kept in another store than
    the configured one (``server``, or None for the embedded store); ``any_store`` accepts either store."""
    index_dir = directory.parent.parent
    if manifest.model_id != embedder.model_id or manifest.dimension != embedder.dimension:
        raise IndexMismatchError(
            f"The index in {index_dir} was built with {manifest.model_id} ({manifest.dimension} dimensions), "
            f"but the configured model is {embedder.model_id} ({embedder.dimension} dimensions). "
            f"Rebuild the index with the configured model ({REBUILD_COMMAND}) or set NEWSDESK_EMBED_MODEL "
            f"to {manifest.model_id}.",
            MismatchCause.MODEL,
        )
    if manifest.store == "server" and server is None:
        raise IndexMismatchError(
            f"The index in {index_dir} keeps its vectors on the Chroma server {manifest.chroma_server} "
            f"(collection {manifest.collection}). Set NEWSDESK_CHROMA_HOST and NEWSDESK_CHROMA_PORT to that server, "
            f"or rebuild the index in the embedded store with: {REBUILD_COMMAND}",
            MismatchCause.STORE,
        )
    if manifest.store != "server" and server is not None and not any_store:
        raise IndexMismatchError(
            f"The index in {index_dir} uses the embedded Chroma store, but NEWSDESK_CHROMA_HOST names "
            f"the server {server.address}. Rebuild the index on the server ({REBUILD_COMMAND}) "
            "or unset NEWSDESK_CHROMA_HOST.",
            MismatchCause.STORE,
        )
