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

The modules, bottom up: ``paths`` (directories, the writer lock, atomic writes), ``chroma``
(clients, a server, where vectors live, chunk metadata and the filters over it), ``tables``
(articles and chunk rows), ``bm25``, ``manifest``, ``integrity`` (is a generation whole),
``reader`` (``Index``, ``open_index``) and ``writer`` (``GenerationWriter``, pruning).
"""

from __future__ import annotations

from .chroma import ChromaServer, StoreLocation, chroma_where, chunk_metadata, collection_name
from .manifest import Manifest
from .paths import IndexPaths, writer_lock, writing
from .reader import ChunkColumns, Index, Serving, open_index, serving_generation
from .tables import ChunkRow, article_from_json, article_to_json
from .writer import KEEP_GENERATIONS, ChunkBatch, GenerationWriter, prune_generations

__all__ = [
    "KEEP_GENERATIONS",
    "ChromaServer",
    "ChunkBatch",
    "ChunkColumns",
    "ChunkRow",
    "GenerationWriter",
    "Index",
    "IndexPaths",
    "Manifest",
    "Serving",
    "StoreLocation",
    "article_from_json",
    "article_to_json",
    "chroma_where",
    "chunk_metadata",
    "collection_name",
    "open_index",
    "prune_generations",
    "serving_generation",
    "writer_lock",
    "writing",
]
