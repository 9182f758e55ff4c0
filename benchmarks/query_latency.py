"""Query latency: the floor (query embedding + one Chroma top-k query) against newsdesk's
retrieval and the whole ``ask`` path, on the Horne archive and on an index scaled to 100,000+
chunks (the archive's stored vectors, texts and sentence tables replicated under new ids — no
re-encoding; the figures are for latency only).

Usage: .venv/bin/python benchmarks/query_latency.py [--scale 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
HORNE = REPO.parent / "shared" / "data" / "horne2017" / "articles.jsonl"
QUESTIONS = REPO / "evals" / "horne_dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not HORNE.exists():
        print(f"skipped: {HORNE} is absent (the Horne archive is read from ../shared)")
        return
    from assistant.config import Settings
    from assistant.embedding import SentenceTransformerEmbedder
    from assistant.indexing import rebuild

    embedder = SentenceTransformerEmbedder()
    questions = [json.loads(line)["question"] for line in QUESTIONS.open(encoding="utf-8")]
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings.from_env(index_dir=Path(tmp) / "horne")
        rebuild([HORNE], base, embedder=embedder)
        rows = [("Horne archive", measure(base, embedder, questions, args.repeat))]
        scaled = replace(base, index_dir=Path(tmp) / "scaled")
        n = scale_index(base.index_dir, scaled.index_dir, args.scale)
        rows.append((f"scaled ({n:,} chunks)", measure(scaled, embedder, questions, args.repeat)))
    print(f"{'index':<24}{'path':<34}{'p50 ms':>9}{'p95 ms':>9}{'p50 / floor':>13}")
    for name, result in rows:
        floor50 = result["floor (embed + Chroma top-k)"][0]
        for path, (p50, p95) in result.items():
            print(f"{name:<24}{path:<34}{p50:>9.1f}{p95:>9.1f}{p50 / floor50:>13.2f}")


def measure(settings, embedder, questions: list[str], repeat: int) -> dict[str, tuple[float, float]]:  # type: ignore[no-untyped-def]
    from assistant.chat import Newsdesk
    from assistant.records import Filters
    from assistant.retrieval import retrieve

    newsdesk = Newsdesk(settings, embedder)
    index = newsdesk.index
    for q in questions[:5]:  # warm caches
        newsdesk.ask(q)
    floor, retrieval, ask = [], [], []
    for _ in range(repeat):
        for q in questions:
            t = time.perf_counter()
            vector = embedder.embed_query(q)
            index.collection.query(query_embeddings=[vector], n_results=settings.top_k, include=["distances"])
            floor.append(time.perf_counter() - t)
            t = time.perf_counter()
            retrieve(index, q, Filters(), settings)
            retrieval.append(time.perf_counter() - t)
            t = time.perf_counter()
            newsdesk.ask(q)
            ask.append(time.perf_counter() - t)
    return {
        "floor (embed + Chroma top-k)": _pct(floor),
        "retrieval (hybrid + evidence)": _pct(retrieval),
        "ask (whole answer)": _pct(ask),
    }


def _pct(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def scale_index(src_root: Path, dst_root: Path, target: int) -> int:
    """Replicate the live generation of ``src_root`` into ``dst_root`` until it holds ``target`` chunks."""
    import bm25s
    import numpy as np

    from assistant.store import COLLECTION, Manifest, _local_files, _write_atomic, chroma_client

    src = (src_root / "generations" / (src_root / "LIVE").read_text().strip())
    manifest = Manifest.load(src / "manifest.json")
    copies = -(-target // manifest.chunks)
    dst = dst_root / "generations" / "scaled"
    dst.mkdir(parents=True)
    shutil.copy(src / "groups.json", dst / "groups.json")
    articles = [json.loads(line) for line in (src / "articles.jsonl").open(encoding="utf-8")]
    chunks = [json.loads(line) for line in (src / "chunks.jsonl").open(encoding="utf-8")]
    got = chroma_client(src / "chroma").get_collection(COLLECTION).get(include=["embeddings", "documents", "metadatas"])
    terms = _chunk_terms(src, articles, chunks)
    vectors = np.fromfile(src / "sentences.f16", dtype=np.float16)
    rows = np.fromfile(src / "sentences.i32", dtype=np.int32).reshape(-1, 3)
    collection = chroma_client(dst / "chroma").create_collection(COLLECTION, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    all_terms: list[list[str]] = []
    with (dst / "articles.jsonl").open("w", encoding="utf-8") as fa, (dst / "chunks.jsonl").open("w", encoding="utf-8") as fc, \
            (dst / "sentences.f16").open("wb") as fv, (dst / "sentences.i32").open("wb") as fr:
        for k in range(copies):
            suffix = "" if k == 0 else f"~r{k}"
            for a in articles:
                fa.write(json.dumps({**a, "id": a["id"] + suffix}, ensure_ascii=False) + "\n")
            offset_s, offset_c = k * len(rows), k * len(chunks)
            for c in chunks:
                fc.write(json.dumps({**c, "id": c["article_id"] + suffix + "#" + str(c["ordinal"]), "article_id": c["article_id"] + suffix,
                                     "s0": c["s0"] + offset_s, "s1": c["s1"] + offset_s}) + "\n")
            shifted = rows.copy()
            shifted[:, 0] += offset_c
            fr.write(shifted.tobytes())
            fv.write(vectors.tobytes())
            all_terms.extend(terms)
            ids = [m["article_id"] + suffix + "#" + str(m["ordinal"]) for m in got["metadatas"]]
            metas = [{**m, "article_id": m["article_id"] + suffix} for m in got["metadatas"]]
            for i in range(0, len(ids), 5000):
                collection.add(ids=ids[i : i + 5000], embeddings=got["embeddings"][i : i + 5000],
                               documents=got["documents"][i : i + 5000], metadatas=metas[i : i + 5000])
    retriever = bm25s.BM25()
    retriever.index(all_terms, show_progress=False)
    retriever.save(str(dst / "bm25"), show_progress=False)
    scaled = replace(manifest, articles=manifest.articles * copies, chunks=manifest.chunks * copies,
                     sentences=manifest.sentences * copies, files=_local_files(dst))
    _write_atomic(dst / "manifest.json", json.dumps(asdict(scaled)))
    _write_atomic(dst_root / "LIVE", "scaled\n")
    return scaled.chunks


def _chunk_terms(src: Path, articles: list[dict], chunks: list[dict]) -> list[list[str]]:  # type: ignore[type-arg]
    from assistant.lexical import terms

    by_id = {a["id"]: a for a in articles}
    out = []
    for c in chunks:
        a = by_id[c["article_id"]]
        out.append(terms(f"{a['title']}\n{a.get('publisher') or ''}\n{a['body'][c['start']:c['end']]}"))
    return out


if __name__ == "__main__":
    main()
