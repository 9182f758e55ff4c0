"""Query latency: the floor (query embedding + one Chroma top-k query) against newsdesk's
retrieval and the whole ``ask`` path, on the Horne archive and on an index scaled to 100,000+
chunks (the archive's stored vectors, texts and sentence tables replicated under new ids — no
re-encoding; the figures are for latency only), in the embedded store and on a `chroma run`
server started on localhost.

Usage: .venv/bin/python benchmarks/query_latency.py [--scale 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
HORNE = REPO / "tests" / "data" / "horne2017" / "articles.jsonl"
QUESTIONS = REPO / "evals" / "horne_dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not HORNE.exists():
        print(f"skipped: {HORNE} is absent")
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
        server_process, port = start_chroma(Path(tmp) / "chroma-server")
        try:
            from assistant.store import ChromaServer

            remote = replace(base, index_dir=Path(tmp) / "scaled-server", chroma_host="127.0.0.1", chroma_port=port)
            n = scale_index(base.index_dir, remote.index_dir, args.scale, ChromaServer.from_settings(remote))
            rows.append((f"server ({n:,} chunks)", measure(remote, embedder, questions, args.repeat)))
        finally:
            server_process.terminate()
            server_process.wait(timeout=30)
    print(f"{'index':<24}{'path':<34}{'p50 ms':>9}{'p95 ms':>9}{'p50 / floor':>13}")
    for name, result in rows:
        floor50 = result["floor (embed + Chroma top-k)"][0]
        for path, (p50, p95) in result.items():
            print(f"{name:<24}{path:<34}{p50:>9.1f}{p95:>9.1f}{p50 / floor50:>13.2f}")


def start_chroma(data: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`chroma run` on a free localhost port, once its heartbeat answers."""
    import socket
    import sys
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("chroma run never answered its heartbeat")


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


def scale_index(src_root: Path, dst_root: Path, target: int, server=None) -> int:  # type: ignore[no-untyped-def]
    """Replicate the live generation of ``src_root`` into ``dst_root`` until it holds ``target``
    chunks, its vectors in the embedded store or, with ``server``, in a collection on that server."""
    import numpy as np

    from assistant.lexical import terms
    from assistant.store import Manifest, collection_name
    from assistant.store.bm25 import BM25Writer
    from assistant.store.chroma import COLLECTION, chroma_client
    from assistant.store.manifest import local_files as _local_files
    from assistant.store.paths import write_atomic as _write_atomic
    from assistant.store.tables import ChunkRow, TableWriter, article_from_json

    src = (src_root / "generations" / (src_root / "LIVE").read_text().strip())
    manifest = Manifest.load(src / "manifest.json")
    copies = -(-target // manifest.chunks)
    dst = dst_root / "generations" / "scaled"
    dst.mkdir(parents=True)
    shutil.copy(src / "groups.json", dst / "groups.json")
    articles = [json.loads(line) for line in (src / "articles.jsonl").open(encoding="utf-8")]
    chunks = [json.loads(line) for line in (src / "chunks.jsonl").open(encoding="utf-8")]
    got = chroma_client(src / "chroma").get_collection(COLLECTION).get(include=["embeddings", "documents", "metadatas"])
    by_id = {a["id"]: a for a in articles}
    chunk_terms = [terms(f"{by_id[c['article_id']]['title']}\n{by_id[c['article_id']].get('publisher') or ''}\n"
                         f"{by_id[c['article_id']]['body'][c['start']:c['end']]}") for c in chunks]
    vectors = np.fromfile(src / "sentences.f16", dtype=np.float16)
    rows = np.fromfile(src / "sentences.i32", dtype=np.int32).reshape(-1, 3)
    if server is None:
        store = {"store": "embedded", "chroma_server": "", "collection": COLLECTION}
        collection = chroma_client(dst / "chroma").create_collection(
            COLLECTION, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    else:
        store = {"store": "server", "chroma_server": server.address, "collection": collection_name("scaled")}
        collection = server.client().create_collection(
            store["collection"], configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    _write_atomic(dst / "store.json", json.dumps(store))
    tables, bm25 = TableWriter(dst), BM25Writer(dst / "bm25")
    by_article: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for c in chunks:
        by_article.setdefault(c["article_id"], []).append(c)
    with (dst / "sentences.f16").open("wb") as fv, (dst / "sentences.i32").open("wb") as fr:
        for k in range(copies):
            suffix = "" if k == 0 else f"~r{k}"
            offset_s, offset_c = k * len(rows), k * len(chunks)
            for a in articles:
                tables.add_article(article_from_json({**a, "id": a["id"] + suffix}))
                for c in by_article.get(a["id"], []):
                    tables.add_chunk(ChunkRow.from_json({**c, "id": c["article_id"] + suffix + "#" + str(c["ordinal"]),
                                      "article_id": c["article_id"] + suffix, "s0": c["s0"] + offset_s, "s1": c["s1"] + offset_s}))
            for t in chunk_terms:
                bm25.add(t)
            shifted = rows.copy()
            shifted[:, 0] += offset_c
            fr.write(shifted.tobytes())
            fv.write(vectors.tobytes())
            ids = [m["article_id"] + suffix + "#" + str(m["ordinal"]) for m in got["metadatas"]]
            metas = [{**m, "article_id": m["article_id"] + suffix} for m in got["metadatas"]]
            for i in range(0, len(ids), 5000):
                collection.add(ids=ids[i : i + 5000], embeddings=got["embeddings"][i : i + 5000],
                               documents=got["documents"][i : i + 5000], metadatas=metas[i : i + 5000])
    tables.finish()
    bm25.finish()
    scaled = replace(manifest, articles=manifest.articles * copies, chunks=manifest.chunks * copies,
                     sentences=manifest.sentences * copies, files=_local_files(dst), **store)
    _write_atomic(dst / "manifest.json", json.dumps(asdict(scaled)))
    _write_atomic(dst_root / "LIVE", "scaled\n")
    return scaled.chunks


if __name__ == "__main__":
    main()
