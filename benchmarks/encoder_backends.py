"""Encoder backends on the Horne archive, in one run: torch (sentence-transformers) vs ONNX fp32 vs int8.

For each backend:
  * throughput: ``embed_batch`` of exactly the chunk texts newsdesk embeds (chunks/s, same batch size),
    interleaved slice by slice across the backends so that load from other processes on this shared
    machine falls on all of them alike;
  * retrieval quality: an index built with that backend (``rebuild``) and the dev set
    ``evals/horne_dev.jsonl`` asked through ``Newsdesk.ask`` (follow-ups with their history, null
    questions skipped): article Hit@1 and MRR@10 over ``answer.retrieved``.
A backend qualifies when its MRR@10 is within 0.01 of torch's (ΔMRR ≥ −0.01).

Usage: .venv/bin/python benchmarks/encoder_backends.py [ARCHIVE] [QUESTIONS]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.embedding import Embedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ARCHIVE = REPO / "tests" / "data" / "horne2017" / "articles.jsonl"
DEFAULT_QUESTIONS = REPO / "evals" / "horne_dev.jsonl"
MAX_MRR_LOSS = 0.01

Row = tuple[str, float, float, float, int]  # backend, chunks/s, Hit@1, MRR@10, questions whose top 10 differ from torch's


def main() -> None:
    archive = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ARCHIVE
    questions_path = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_QUESTIONS
    if not archive.exists():
        print(f"skipped: {archive} is absent")
        return
    from assistant.config import Settings
    from assistant.embedding import OnnxEmbedder, SentenceTransformerEmbedder

    settings = Settings.from_env()
    questions = [q for q in map(json.loads, questions_path.read_text(encoding="utf-8").splitlines()) if q["type"] != "null"]
    with tempfile.TemporaryDirectory() as tmp:
        torch_embedder = SentenceTransformerEmbedder(batch_size=settings.embed_batch_size)
        embedders: list[Embedder] = [torch_embedder]
        for backend in ("onnx-fp32", "onnx-int8"):
            onnx = OnnxEmbedder(Path(tmp) / "models", backend, batch_size=settings.embed_batch_size)
            t = time.perf_counter()
            onnx.embed_batch(["warm up"] * 8)
            print(f"{backend}: exported/loaded in {time.perf_counter() - t:.1f} s")
            embedders.append(onnx)
        torch_embedder.embed_batch(["warm up"] * 8)
        texts = chunk_texts(archive, settings, torch_embedder)
        print(f"{len(texts)} chunks; batch size {settings.embed_batch_size}; {len(questions)} answerable dev questions")
        speeds = throughput(embedders, texts)
        rows: list[Row] = []
        rankings: list[list[list[str]]] = []
        for e, speed in zip(embedders, speeds, strict=True):
            index_settings = replace(settings, index_dir=Path(tmp) / e.backend / "index", top_k=max(settings.top_k, 10))
            started = time.perf_counter()
            ranked = rankings_of(archive, index_settings, e, questions)
            hit1, mrr = quality(ranked, questions)
            changed = sum(a[:10] != b[:10] for a, b in zip(ranked, rankings[0] if rankings else ranked, strict=True))
            rankings.append(ranked)
            rows.append((e.backend, speed, hit1, mrr, changed))
            print(f"  {e.backend}: {speed:.1f} chunks/s, Hit@1 {hit1:.3f}, MRR@10 {mrr:.3f} "
                  f"(index + {len(questions)} questions in {time.perf_counter() - started:.0f} s)", flush=True)
    print_table(rows)


def chunk_texts(archive: Path, settings: Settings, embedder: Embedder) -> list[str]:
    from assistant.chunking import chunk_article, embed_text
    from assistant.records import Article
    from assistant.sources import read_file

    articles = [r for r in read_file(archive) if isinstance(r, Article)]
    return [
        embed_text(a, c)
        for a in articles
        for c in chunk_article(a, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_sentences)
    ]


def throughput(embedders: list[Embedder], texts: list[str], slices: int = 8) -> list[float]:
    """Chunks/s of each embedder over all ``texts``, timed slice by slice in turn, all cores each (as a rebuild)."""
    for e in embedders:
        e.use_threads(0)
    seconds = [0.0] * len(embedders)
    step = -(-len(texts) // slices)
    for at in range(0, len(texts), step):
        for n, e in enumerate(embedders):
            t = time.perf_counter()
            e.embed_batch(texts[at : at + step])
            seconds[n] += time.perf_counter() - t
    return [len(texts) / s for s in seconds]


def rankings_of(archive: Path, settings: Settings, embedder: Embedder, questions: list[dict[str, Any]]) -> list[list[str]]:
    """Each question's retrieved articles, best first, from an index built with ``embedder``."""
    from assistant.chat import Newsdesk
    from assistant.evaluation import ranked_articles
    from assistant.indexing import rebuild

    rebuild([archive], settings, embedder=embedder)
    desk = Newsdesk(settings, embedder)
    return [ranked_articles(desk.ask(q["question"], history=q.get("history", [])).retrieved) for q in questions]


def quality(rankings: list[list[str]], questions: list[dict[str, Any]]) -> tuple[float, float]:
    """(article Hit@1, MRR@10) over the questions."""
    from assistant.evaluation import hit_at, reciprocal_rank

    golds = [list(dict.fromkeys(ev["article_id"] for ev in q["evidence"])) for q in questions]
    hits = [hit_at(r, g, 1) for r, g in zip(rankings, golds, strict=True)]
    rrs = [reciprocal_rank(r, g, 10) for r, g in zip(rankings, golds, strict=True)]
    return sum(hits) / len(hits), sum(rrs) / len(rrs)


def print_table(rows: list[Row]) -> None:
    _, torch_speed, _, torch_mrr, _ = rows[0]
    print(f"\n{'backend':<11}{'chunks/s':>10}{'vs torch':>10}{'Hit@1':>8}{'MRR@10':>8}{'ΔMRR':>8}  qualifies  top-10 ≠ torch")
    for backend, speed, hit1, mrr, changed in rows:
        delta = mrr - torch_mrr
        ok = "yes" if delta >= -MAX_MRR_LOSS else "no"
        print(f"{backend:<11}{speed:>10.1f}{speed / torch_speed:>10.2f}{hit1:>8.3f}{mrr:>8.3f}{delta:>+8.3f}  {ok:<9}  {changed:>4} questions")


if __name__ == "__main__":
    main()
