"""Per-chunk costs of every stage of a build, and of serving, on one archive: the figures behind docs/scale.md.

Stages, each timed on its own over the same chunks (the model loaded beforehand):

- read + clean (``sources.read_file``) and chunk (sentence split, token fit, chunk packing, as a build does);
- encode with late chunking (``embed_with_spans``, 256 chunks per call as a build hands them over) on
  onnx-fp32 (the default) and torch, with the build's threads (all cores);
- Chroma write (upsert with documents and metadata, 256 per batch, then close) into the embedded store
  and into a ``chroma run`` on localhost;
- BM25: lexical terms (tokenise, stem), the on-disk spool, and ``finish``; ``finish`` again with a small
  pass budget to time one pass over the spool (``finish`` makes ceil(postings / 4M) passes, each over
  the whole spool), the vocabulary's growth with the number of chunks, its memory once loaded, and the
  per-query work that grows with the number of chunks (a score for every chunk, then a top-n);
- a whole rebuild (end to end) and the disk of its generation by part, then the same archive
  rebuilt onto the server (vectors reused, nothing encoded);
- memory of a serving process (RSS of a fresh process: encoder loaded, index open, three questions
  answered) for the embedded store and for the server, and the server's own RSS.

With ``--limit N`` only the first N chunks are encoded by each backend; the Chroma stages then write the
remaining chunks with random unit vectors (their write cost, not their meaning, is measured). CPU time
(``time.process_time``, all threads of the process) is reported beside wall time: on a shared machine it
is the cost that does not depend on what else runs.

Usage: .venv/bin/python benchmarks/per_chunk_costs.py [--archive PATH] [--limit N] [--torch-limit N] [--json OUT]
       .venv/bin/python benchmarks/per_chunk_costs.py --encode-only --threads 1 --limit 300   # the encoders alone

The machine this runs on may be shared: timings are wall-clock and carry other processes' load.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
HORNE = REPO / "tests" / "data" / "horne2017" / "articles.jsonl"
OTHER_ARCHIVES = [REPO / "tests" / "data" / "fakenewscorpus-sample" / "news_sample.csv", REPO / "seeds"]
BATCH = 256  # chunks per encoder call and per Chroma upsert, as a build writes them
QUESTIONS = ["How many civilians are trapped in eastern Aleppo?", "Who won the Republican nomination?",
             "What did the FBI director say about the emails?"]

SERVE = r"""
import json, sys, time
from pathlib import Path

def rss(field="VmRSS"):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024

from assistant.config import Settings
from assistant.embedding import make_embedder
from assistant.chat import Newsdesk

index_dir, host, port, questions = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
overrides = {"index_dir": Path(index_dir)}
if host:
    overrides.update(chroma_host=host, chroma_port=int(port))
settings = Settings.from_env(**overrides)
start = rss()
embedder = make_embedder(settings)
embedder.embed_query("warm up")
loaded = rss()
desk = Newsdesk(settings, embedder)
desk.index  # open it
opened = rss()
t = time.perf_counter()
for q in questions:
    desk.ask(q)
asked = rss()
print(json.dumps({"start": start, "encoder": loaded, "open": opened, "asked": asked, "peak": rss("VmHWM"),
                  "seconds_per_question": (time.perf_counter() - t) / len(questions)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path, default=HORNE)
    parser.add_argument("--torch-limit", type=int, default=0, help="encode only this many chunks with torch (0: all)")
    parser.add_argument("--limit", type=int, default=0, help="encode only this many chunks with either backend (0: all)")
    parser.add_argument("--threads", type=int, default=0, help="encoder threads (0: all cores, as a build)")
    parser.add_argument("--encode-only", action="store_true", help="read, chunk and encode only")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures: dict[str, Any] = {"archive": str(args.archive.relative_to(REPO) if args.archive.is_relative_to(REPO) else args.archive),
                               "cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        stages = Stages(args.archive, work, args.threads)
        figures.update(stages.read_and_chunk())
        figures.update(stages.chunks_per_article_elsewhere())
        figures.update(stages.encode("onnx-fp32", args.limit))
        figures.update(stages.encode("torch", min(filter(None, (args.limit, args.torch_limit)), default=0)))
        figures["threads"] = args.threads or os.cpu_count()
        if args.encode_only:
            figures["load_after"] = os.getloadavg()[0]
            print(json.dumps(figures, indent=1))
            return
        figures.update(stages.chroma_embedded())
        with chroma_server(work / "server-data") as port:
            figures.update(stages.chroma_server(port))
            figures.update(stages.bm25())
            figures.update(stages.rebuild_and_serve(port))
    figures["load_after"] = os.getloadavg()[0]
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")


class Stages:
    """The archive read once, then each stage timed over the same chunks."""

    def __init__(self, archive: Path, work: Path, threads: int = 0) -> None:
        from assistant.config import Settings
        from assistant.embedding import make_embedder

        self.archive, self.work = archive, work
        self.settings = Settings.from_env(index_dir=work / "index", embed_backend="onnx-fp32")
        self.embedder = make_embedder(self.settings)  # exports the packaged model to ONNX once, untimed
        self.embedder.embed_query("warm up")
        self.encode_threads = threads or self.settings.index_threads  # a build's: 0, all cores
        self.threads = self.embedder.use_threads(self.encode_threads)

    def read_and_chunk(self) -> dict[str, Any]:
        from assistant.records import Article
        from assistant.sources import Limits, read_file

        warm = Article("w", "w", "Warm up. The sentence splitter loads.", None, None, None, None, None, "warm", 1)
        _plan(warm, self.embedder, self.settings)
        t, c = time.perf_counter(), time.process_time()
        self.articles = [r for r in read_file(self.archive, Limits()) if isinstance(r, Article)]
        read, read_cpu = time.perf_counter() - t, time.process_time() - c
        t, c = time.perf_counter(), time.process_time()
        self.items = [(a, c, spans) for a in self.articles for c, spans in _plan(a, self.embedder, self.settings)]
        chunked, chunked_cpu = time.perf_counter() - t, time.process_time() - c
        n = len(self.items)
        return {"articles": len(self.articles), "chunks": n, "sentences": sum(len(s) for _, _, s in self.items),
                "chunks_per_article": n / len(self.articles), "body_chars_per_article": sum(len(a.body) for a in self.articles) / len(self.articles),
                "read_clean_ms_per_chunk": 1000 * read / n, "chunk_ms_per_chunk": 1000 * chunked / n,
                "read_clean_cpu_ms_per_chunk": 1000 * read_cpu / n, "chunk_cpu_ms_per_chunk": 1000 * chunked_cpu / n}

    def chunks_per_article_elsewhere(self) -> dict[str, Any]:
        from assistant.records import Article
        from assistant.sources import Limits, iter_files, read_file

        out = {}
        for archive in OTHER_ARCHIVES:
            articles = [r for f in iter_files([archive]) if isinstance(f, Path) for r in read_file(f, Limits()) if isinstance(r, Article)]
            chunks = sum(len(_plan(a, self.embedder, self.settings)) for a in articles)
            out[f"chunks_per_article[{archive.relative_to(REPO)}]"] = round(chunks / max(len(articles), 1), 2)
        return out

    def encode(self, backend: str, limit: int = 0) -> dict[str, Any]:
        from assistant.embedding import SentenceTransformerEmbedder

        if backend == "torch":
            embedder: Any = SentenceTransformerEmbedder(batch_size=self.settings.embed_batch_size)
            embedder.use_threads(self.encode_threads)
            embedder.embed_query("warm up")
        else:
            embedder = self.embedder
        items = self.items[:limit] if limit else self.items
        t, c = time.perf_counter(), time.process_time()
        vectors, sentence_vectors = [], []
        for i in range(0, len(items), BATCH):
            v, sv = _encode(embedder, items[i : i + BATCH])
            vectors.append(v)
            sentence_vectors += sv
        seconds, cpu = time.perf_counter() - t, time.process_time() - c
        if backend == "onnx-fp32":  # the vectors the Chroma stages write (random unit ones past --limit)
            import numpy as np

            rest = np.random.default_rng(0).normal(size=(len(self.items) - len(items), self.embedder.dimension))
            rest = (rest / np.linalg.norm(rest, axis=1, keepdims=True)).astype(np.float32)
            self.vectors = np.concatenate([*vectors, rest])
        return {f"encode_{backend}_chunks": len(items), f"encode_{backend}_chunks_per_s": len(items) / seconds,
                f"encode_{backend}_ms_per_chunk": 1000 * seconds / len(items),
                f"encode_{backend}_cpu_ms_per_chunk": 1000 * cpu / len(items)}  # core-time: the cost whatever the load

    def _upsert_all(self, collection: Any) -> None:
        from assistant.store import chunk_metadata

        for i in range(0, len(self.items), BATCH):
            part = self.items[i : i + BATCH]
            collection.upsert(ids=[c.id for _, c, _ in part], embeddings=self.vectors[i : i + BATCH],
                              documents=[c.text for _, c, _ in part], metadatas=[chunk_metadata(a, c) for a, c, _ in part])

    def chroma_embedded(self) -> dict[str, Any]:
        from assistant.store.chroma import chroma_client

        empty = self.work / "empty-chroma"  # what a store holds before its first chunk, taken off the per-chunk figure
        client = chroma_client(empty)
        client.create_collection("chunks", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        client.close()
        path = self.work / "embedded-chroma"
        t, c = time.perf_counter(), time.process_time()
        client = chroma_client(path)
        collection = client.create_collection("chunks", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        self._upsert_all(collection)
        client.close()
        seconds, cpu = time.perf_counter() - t, time.process_time() - c
        sqlite = sum(du(p) for p in path.glob("chroma.sqlite3*"))
        return {"chroma_embedded_ms_per_chunk": 1000 * seconds / len(self.items), "chroma_embedded_cpu_ms_per_chunk": 1000 * cpu / len(self.items),
                "chroma_embedded_bytes_per_chunk": (du(path) - du(empty)) / len(self.items),
                "chroma_embedded_sqlite_bytes_per_chunk": (sqlite - sum(du(p) for p in empty.glob("chroma.sqlite3*"))) / len(self.items),
                "chroma_embedded_segment_bytes_per_chunk": (du(path) - sqlite) / len(self.items),
                "hnsw_level0_bytes_per_chunk": sum(p.stat().st_size for p in path.rglob("data_level0.bin")) / len(self.items)}

    def chroma_server(self, port: int) -> dict[str, Any]:
        from assistant.store import ChromaServer

        client = ChromaServer("127.0.0.1", port).client()
        pid = server_pid(port)
        t, c, server_cpu = time.perf_counter(), time.process_time(), cpu_of(pid)
        collection = client.create_collection("bench-chunks", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        self._upsert_all(collection)
        seconds, cpu, server_cpu = time.perf_counter() - t, time.process_time() - c, cpu_of(pid) - server_cpu
        client.delete_collection("bench-chunks")
        return {"chroma_server_ms_per_chunk": 1000 * seconds / len(self.items),
                "chroma_server_client_cpu_ms_per_chunk": 1000 * cpu / len(self.items),
                "chroma_server_server_cpu_ms_per_chunk": 1000 * server_cpu / len(self.items)}

    def bm25(self) -> dict[str, Any]:
        import numpy as np

        from assistant.lexical import terms
        from assistant.store.bm25 import BM25Writer, load_bm25

        texts = [f"{a.title}\n{a.publisher or ''}\n{c.text}" for a, c, _ in self.items]
        c = time.process_time()
        docs = [terms(text) for text in texts]
        terms_s = time.process_time() - c
        writer = BM25Writer(self.work / "bm25")
        c = time.process_time()
        for d in docs:
            writer.add(d)
        spool_s = time.process_time() - c
        c = time.process_time()
        writer.finish()
        finish_s = time.process_time() - c
        n = len(docs)
        postings = int(np.load(self.work / "bm25" / "indptr.csc.index.npy")[-1])
        passes = 8  # the same index again, written in 8 passes: the time of one pass over the spool
        again = BM25Writer(self.work / "bm25-passes", pass_postings=max(postings // passes, 1))
        for d in docs:
            again.add(d)
        c = time.process_time()
        again.finish()
        pass_s = (time.process_time() - c) / passes
        growth = {}
        for share in (0.25, 0.5, 1.0):
            seen: set[str] = set()
            for d in docs[: int(n * share)]:
                seen.update(d)
            growth[str(int(n * share))] = len(seen)
        tracemalloc.start()
        loaded = load_bm25(self.work / "bm25")
        heap = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        vocab = len(loaded.vocab_dict)
        big = 4_000_000  # the per-query work that grows with the chunks: a score each, then the top 50
        scores = np.random.default_rng(0).random(big, dtype=np.float32)
        c = time.process_time()
        for _ in range(5):
            s = np.zeros(big, dtype=np.float32)
            s += scores
            top = np.argpartition(-s, 49)[:50]
            top[np.argsort(-s[top])]
        per_query_ns = (time.process_time() - c) / 5 / big * 1e9
        return {"bm25_terms_ms_per_chunk": 1000 * terms_s / n, "bm25_spool_ms_per_chunk": 1000 * spool_s / n,
                "bm25_finish_ms_per_chunk": 1000 * finish_s / n, "bm25_postings": postings, "bm25_postings_per_chunk": postings / n,
                "bm25_pass_postings_per_s": postings / pass_s, "bm25_vocab": vocab, "bm25_vocab_growth": growth,
                "bm25_disk_bytes_per_chunk": du(self.work / "bm25") / n, "bm25_loaded_heap_bytes": heap,
                "bm25_loaded_heap_bytes_per_term": heap / vocab, "bm25_query_ns_per_chunk": per_query_ns}

    def rebuild_and_serve(self, port: int) -> dict[str, Any]:
        from dataclasses import replace

        from assistant.indexing import rebuild
        from assistant.store import IndexPaths

        self.embedder.use_threads(self.threads)  # a rebuild sets its own
        t, c = time.perf_counter(), time.process_time()
        report = rebuild([self.archive], self.settings, embedder=self.embedder)
        seconds, cpu = time.perf_counter() - t, time.process_time() - c
        live = IndexPaths(self.settings.index_dir).live_generation()
        assert live is not None
        n = report.chunks
        parts = {
            "chroma (embedded)": du(live / "chroma"),
            "sentence vectors (sentences.f16, .i32)": du(live / "sentences.f16") + du(live / "sentences.i32"),
            "bm25": du(live / "bm25"),
            "articles and chunks (jsonl, idx, lookup.sqlite)": sum(du(p) for p in live.iterdir() if p.name.startswith(("articles", "chunks", "lookup"))),
            "groups, manifest, store.json": sum(du(live / p) for p in ("groups.json", "manifest.json", "store.json")),
        }
        t, c = time.perf_counter(), time.process_time()
        again = rebuild([self.archive], self.settings, embedder=self.embedder)  # vectors reused: all but the encoder
        again_seconds, again_cpu = time.perf_counter() - t, time.process_time() - c
        embedded = serve(self.settings.index_dir, "", port)
        server_settings = replace(self.settings, chroma_host="127.0.0.1", chroma_port=port)
        pid = server_pid(port)
        t, c, server_cpu = time.perf_counter(), time.process_time(), cpu_of(pid)
        to_server = rebuild([self.archive], server_settings, embedder=self.embedder)
        server_seconds, to_server_cpu, server_cpu = time.perf_counter() - t, time.process_time() - c, cpu_of(pid) - server_cpu
        before = rss_of(pid)
        server_disk = du(self.work / "server-data")  # the server holds this collection alone (the stage's own was deleted)
        served = serve(self.settings.index_dir, "127.0.0.1", port)
        return {"rebuild_chunks": n, "rebuild_seconds": seconds, "rebuild_chunks_per_s": n / seconds,
                "rebuild_cpu_ms_per_chunk": 1000 * cpu / n, "rebuild_encode_seconds": report.embed_seconds,
                "rebuild_reused_chunks_per_s": again.chunks / again_seconds, "rebuild_reused_cpu_ms_per_chunk": 1000 * again_cpu / n,
                "generation_bytes_per_chunk": {k: v / n for k, v in parts.items()},
                "generation_bytes_per_chunk_total": sum(parts.values()) / n,
                "serve_embedded_mib": embedded,
                "rebuild_to_server_reused_seconds": server_seconds, "rebuild_to_server_reused_chunks_per_s": to_server.chunks / server_seconds,
                "rebuild_to_server_reused_cpu_ms_per_chunk": 1000 * to_server_cpu / n,
                "rebuild_to_server_server_cpu_ms_per_chunk": 1000 * server_cpu / n,
                "serve_server_mib": served, "chroma_server_disk_bytes_per_chunk": server_disk / n, "chroma_server_rss_mib": {"before_questions": before, "after_questions": rss_of(pid)}}


# ---- helpers -------------------------------------------------------------------------------------


def _plan(article: Any, embedder: Any, settings: Any) -> list[tuple[Any, list[Any]]]:
    """A build's chunking: sentences, fitted to the token budget, packed into chunks (each with its sentences)."""
    from assistant.chunking import Span, chunk_article, fit_spans, sentence_spans

    count = embedder.count_tokens
    spans = fit_spans(article.body, sentence_spans(article.body), count, settings.chunk_tokens)
    chunks = chunk_article(article, count, settings.chunk_tokens, settings.chunk_overlap_sentences, spans)
    return [(c, [sp for sp in spans if sp.start >= c.start and sp.end <= c.end] or [Span(c.start, c.end)]) for c in chunks]


def _encode(embedder: Any, items: list[tuple[Any, Any, list[Any]]]) -> tuple[Any, list[Any]]:
    """A build's encoding: headline + chunk text, and one pooled vector per sentence (late chunking)."""
    from assistant.chunking import embed_text

    texts, spans = [], []
    for article, chunk, sentence_spans in items:
        text = embed_text(article, chunk)
        shift = len(text) - len(chunk.text)
        texts.append(text)
        spans.append([(sp.start - chunk.start + shift, sp.end - chunk.start + shift) for sp in sentence_spans])
    result: tuple[Any, list[Any]] = embedder.embed_with_spans(texts, spans)
    return result


def du(path: Path) -> int:
    if not path.exists():
        return 0
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def rss_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_SERVER: dict[int, subprocess.Popen[bytes]] = {}


def server_pid(port: int) -> int:
    return _SERVER[port].pid


@contextmanager
def chroma_server(data: Path) -> Iterator[int]:
    """`chroma run` on a free localhost port, in its own process group, stopped with it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    data.mkdir(parents=True)
    proc = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(data), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    _SERVER[port] = proc
    try:
        _wait_for(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).status == 200)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_for(ready: Callable[[], bool], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("chroma run never answered")


def serve(index_dir: Path, host: str, port: int) -> dict[str, float]:
    """RSS (MiB) of a fresh serving process: at start, encoder loaded, index open, three questions answered."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", SERVE, str(index_dir), host, str(port), json.dumps(QUESTIONS)],
                         env=env, capture_output=True, text=True, check=True, timeout=600)
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def report(f: dict[str, Any]) -> None:
    n = f["chunks"]
    print(f"archive {f['archive']}: {f['articles']} articles, {n} chunks ({f['chunks_per_article']:.2f} per article), "
          f"{f['sentences']} sentences; {f['cpus']} CPUs, load average {f['load_before']:.1f} → {f['load_after']:.1f}")
    for k, v in f.items():
        if k.startswith("chunks_per_article["):
            print(f"  {k}: {v}")
    print(f"{'stage':<52}{'wall ms/chunk':>14}{'CPU ms/chunk':>14}")
    for label, wall, cpu in [
        ("read + clean", "read_clean_ms_per_chunk", "read_clean_cpu_ms_per_chunk"),
        ("chunk (sentences, token fit, packing)", "chunk_ms_per_chunk", "chunk_cpu_ms_per_chunk"),
        ("encode onnx-fp32 (late chunking)", "encode_onnx-fp32_ms_per_chunk", "encode_onnx-fp32_cpu_ms_per_chunk"),
        ("encode torch (late chunking)", "encode_torch_ms_per_chunk", "encode_torch_cpu_ms_per_chunk"),
        ("Chroma write, embedded (upsert + close)", "chroma_embedded_ms_per_chunk", "chroma_embedded_cpu_ms_per_chunk"),
        ("Chroma write, chroma run (newsdesk's side)", "chroma_server_ms_per_chunk", "chroma_server_client_cpu_ms_per_chunk"),
        ("Chroma write, chroma run (the server's CPU)", "", "chroma_server_server_cpu_ms_per_chunk"),
        ("BM25 terms (tokenise, stem)", "", "bm25_terms_ms_per_chunk"), ("BM25 spool", "", "bm25_spool_ms_per_chunk"),
        ("BM25 finish (one pass at this size)", "", "bm25_finish_ms_per_chunk"),
        ("rebuild end to end (onnx-fp32)", "", "rebuild_cpu_ms_per_chunk"),
        ("rebuild again, vectors reused (all but encoding)", "", "rebuild_reused_cpu_ms_per_chunk"),
        ("rebuild onto the server, vectors reused", "", "rebuild_to_server_reused_cpu_ms_per_chunk"),
    ]:
        print(f"{label:<52}{(f'{f[wall]:.3f}' if wall else ''):>14}{f[cpu]:>14.3f}")
    print(f"rebuild end to end (onnx-fp32): {f['rebuild_seconds']:.1f} s, {f['rebuild_chunks_per_s']:.1f} chunks/s; "
          f"onto the server with vectors reused: {f['rebuild_to_server_reused_chunks_per_s']:.1f} chunks/s")
    print(f"BM25: {f['bm25_postings_per_chunk']:.1f} postings per chunk, one finish pass scans {f['bm25_pass_postings_per_s'] / 1e6:.1f} M "
          f"postings/s, vocabulary {f['bm25_vocab']} (growth {f['bm25_vocab_growth']}), loaded {f['bm25_loaded_heap_bytes_per_term']:.0f} B "
          f"per term, per-query work {f['bm25_query_ns_per_chunk']:.2f} ns per chunk")
    print("disk per chunk (bytes):")
    for k, v in f["generation_bytes_per_chunk"].items():
        print(f"  {k:<50}{v:>10.0f}")
    print(f"  {'total':<50}{f['generation_bytes_per_chunk_total']:>10.0f}")
    print(f"  Chroma alone, beyond an empty store: {f['chroma_embedded_bytes_per_chunk']:.0f} (sqlite "
          f"{f['chroma_embedded_sqlite_bytes_per_chunk']:.0f}, segment files {f['chroma_embedded_segment_bytes_per_chunk']:.0f}, of "
          f"which HNSW level 0 {f['hnsw_level0_bytes_per_chunk']:.0f}); a chroma run's data directory: {f['chroma_server_disk_bytes_per_chunk']:.0f}")
    for label, key in [("embedded store", "serve_embedded_mib"), ("Chroma server", "serve_server_mib")]:
        m = f[key]
        print(f"serving process, {label}: RSS {m['start']:.0f} MiB at start, {m['encoder']:.0f} with the encoder, "
              f"{m['open']:.0f} with the index open, {m['asked']:.0f} after three questions (peak {m['peak']:.0f}); "
              f"{m['seconds_per_question']:.2f} s per question")
    print(f"chroma run RSS: {f['chroma_server_rss_mib']['before_questions']:.0f} MiB → {f['chroma_server_rss_mib']['after_questions']:.0f} MiB")


if __name__ == "__main__":
    main()
