"""Index throughput on the Horne archive, side by side in one run.

(a) raw sentence-transformers ``encode`` of exactly the texts newsdesk embeds (same batch size):
    the physical limit of the encoder on this machine;
(b) ``newsdesk index rebuild`` (in-process, model already loaded): reading, cleaning, chunking,
    encoding with sentence vectors, Chroma writes, BM25, manifest;
(c) llama-index ``VectorStoreIndex.from_documents`` over Chroma with the same model and 256-token
    MiniLM-counted chunks.

Usage: .venv/bin/python benchmarks/index_throughput.py [ARCHIVE]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO / "tests" / "data" / "horne2017" / "articles.jsonl"


def main() -> None:
    archive = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not archive.exists():
        print(f"skipped: {archive} is absent")
        return
    from assistant.chunking import chunk_article, embed_text
    from assistant.config import Settings
    from assistant.embedding import SentenceTransformerEmbedder
    from assistant.indexing import rebuild
    from assistant.records import Article
    from assistant.sources import read_file

    settings = Settings.from_env()
    embedder = SentenceTransformerEmbedder(batch_size=settings.embed_batch_size)
    embedder.embed_batch(["warm up"] * 8)
    articles = [r for r in read_file(archive) if isinstance(r, Article)]
    texts = [
        embed_text(a, c)
        for a in articles
        for c in chunk_article(a, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_sentences)
    ]
    print(f"{len(articles)} articles, {len(texts)} chunks; batch size {settings.embed_batch_size}; torch threads {_threads()}")

    t = time.perf_counter()
    embedder._model.encode(texts, batch_size=settings.embed_batch_size, normalize_embeddings=True, show_progress_bar=False)
    raw = len(texts) / (time.perf_counter() - t)

    with tempfile.TemporaryDirectory() as tmp:
        s = Settings.from_env(index_dir=Path(tmp) / "index")
        t = time.perf_counter()
        report = rebuild([archive], s, embedder=embedder)
        ours = report.chunks / (time.perf_counter() - t)

    li_chunks, li = _llamaindex(articles, embedder, settings.embed_batch_size)

    print(f"{'pipeline':<46}{'chunks':>8}{'chunks/s':>10}{'vs raw':>8}")
    print(f"{'(a) raw sentence-transformers encode':<46}{len(texts):>8}{raw:>10.1f}{1.0:>8.2f}")
    print(f"{'(b) newsdesk index rebuild':<46}{report.chunks:>8}{ours:>10.1f}{ours / raw:>8.2f}")
    print(f"{'(c) llama-index VectorStoreIndex.from_documents':<46}{li_chunks:>8}{li:>10.1f}{li / raw:>8.2f}")
    print(f"newsdesk / llama-index: {ours / li:.2f}x")


def _llamaindex(articles: list, embedder: object, batch_size: int) -> tuple[int, float]:  # type: ignore[type-arg]
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core import Settings as LISettings
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    path = embedder._load_from  # type: ignore[attr-defined]
    model = HuggingFaceEmbedding(model_name=path, embed_batch_size=batch_size, device="cpu")
    LISettings.llm = None
    LISettings.embed_model = model
    tokenizer = embedder.tokenizer  # type: ignore[attr-defined]
    splitter = SentenceSplitter(chunk_size=256, chunk_overlap=20, tokenizer=lambda t: tokenizer.encode(t, add_special_tokens=False))
    docs = [Document(text=a.body, metadata={"title": a.title}, excluded_embed_metadata_keys=["title"]) for a in articles]
    with tempfile.TemporaryDirectory() as tmp:
        client = chromadb.PersistentClient(path=tmp, settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.create_collection("baseline", embedding_function=None)
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        t = time.perf_counter()
        VectorStoreIndex.from_documents(docs, storage_context=storage, transformations=[splitter], embed_model=model)
        elapsed = time.perf_counter() - t
        return collection.count(), collection.count() / elapsed


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main()
