"""Evaluation: a question set → ``Newsdesk.ask`` → per-question metrics → a summary by question type.

Question sets are read and validated in ``questionsets``. Every metric is a small pure function;
``question_metrics`` applies them to one answer and ``summarize`` averages them by type;
``run_eval`` runs a whole set and returns the report data (``EvalRun.to_json`` is report.json).

Reports (JSON, Markdown, plot) and terminal tables are in ``eval_report``.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from .chat import Newsdesk
from .config import Settings, redact_data
from .embedding import Embedder, make_embedder
from .questionsets import KINDS, Question, check_syntax, half_of, load_questions, question_to_dict
from .quotes import fold
from .records import Answer, Article, Chunk, Filters, Quote, answer_to_dict

Metrics = dict[str, float | None]  # per question; None = the metric does not apply to this question
Progress = Callable[[int, int], None]  # (questions done, total)


# ---- metrics: pure functions ---------------------------------------------------------------


class Span(Protocol):
    """Anything located in an article body: a Chunk, a Quote, a GoldQuote."""

    @property
    def article_id(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


def ranked_articles(retrieved: Sequence[str]) -> list[str]:
    """Article ids in rank order, each at its first (best) position: a story retrieved twice ranks once."""
    return list(dict.fromkeys(retrieved))


def hit_at(retrieved: Sequence[str], gold: Sequence[str], k: int) -> float:
    """Hit@k: 1.0 if any gold article is among the first ``k`` ranked articles, else 0.0."""
    return 1.0 if set(ranked_articles(retrieved)[:k]) & set(gold) else 0.0


def reciprocal_rank(retrieved: Sequence[str], gold: Sequence[str], k: int) -> float:
    """RR@k: 1/rank of the best-ranked gold article within the first ``k``, else 0.0 (MRR is its mean)."""
    wanted = set(gold)
    for rank, article_id in enumerate(ranked_articles(retrieved)[:k], start=1):
        if article_id in wanted:
            return 1.0 / rank
    return 0.0


def all_gold_at(retrieved: Sequence[str], gold: Sequence[str], k: int) -> float:
    """1.0 if every gold article is among the first ``k`` ranked articles (the multi-article test)."""
    return 1.0 if gold and set(gold) <= set(ranked_articles(retrieved)[:k]) else 0.0


def inside(inner: Span, outer: Span) -> bool:
    return inner.article_id == outer.article_id and outer.start <= inner.start and inner.end <= outer.end


def overlaps(a: Span, b: Span) -> bool:
    return a.article_id == b.article_id and a.start < b.end and b.start < a.end


def quote_hit_at(gold: Sequence[Span], chunks: Sequence[Span], k: int) -> float:
    """Quote-level Hit@k (MultiHop-RAG): 1.0 if some gold quote lies wholly inside one of the first
    ``k`` retrieved chunks, else 0.0."""
    return 1.0 if any(inside(g, c) for g in gold for c in chunks[:k]) else 0.0


def verification_rate(quotes: Sequence[Quote], articles: Mapping[str, Article]) -> float:
    """Share of shown quotes whose text is exactly ``article.body[start:end]`` (must be 1.0)."""
    if not quotes:
        return 1.0
    ok = sum(1 for q in quotes if q.text and q.article_id in articles and articles[q.article_id].body[q.start : q.end] == q.text)
    return ok / len(quotes)


def citation_precision(quotes: Sequence[Span], gold_articles: Sequence[str]) -> float:
    """Share of shown quotes that come from a gold article (1.0 when nothing is shown)."""
    if not quotes:
        return 1.0
    return sum(1 for q in quotes if q.article_id in set(gold_articles)) / len(quotes)


def evidence_recall(gold: Sequence[Span], quotes: Sequence[Span]) -> float:
    """Share of gold quotes that some shown quote overlaps (same article, intersecting spans)."""
    if not gold:
        return 0.0
    return sum(1 for g in gold if any(overlaps(g, q) for q in quotes)) / len(gold)


def normalize_answer(text: str) -> str:
    """Lower case, typography folded, punctuation and whitespace runs folded to one space."""
    folded = fold(unicodedata.normalize("NFKC", text))[0].casefold()
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())


def answer_parts(answer: str) -> list[str]:
    """The normalised parts of a gold answer (``;`` separates the parts of a multi answer)."""
    return [p for p in (normalize_answer(part) for part in answer.split(";")) if p]


def contains_answer(gold_answer: str, texts: Sequence[str]) -> float:
    """1.0 if every part of the gold answer appears, as whole words after normalisation, in one of ``texts``."""
    parts = answer_parts(gold_answer)
    if not parts:
        return 0.0
    haystacks = [f" {normalize_answer(t)} " for t in texts]
    return 1.0 if all(any(f" {p} " in h for h in haystacks) for p in parts) else 0.0


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100), interpolating linearly between ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the values that apply (not None); None when none applies."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


# ---- metrics of one question ----------------------------------------------------------------


def retrieval_metrics(q: Question, retrieved: Sequence[str], chunks: Sequence[Span], k: int) -> Metrics:
    """Article- and quote-level retrieval metrics; None for a null question (nothing to find)."""
    gold = q.gold_articles
    out: Metrics = {f"hit@{c}": hit_at(retrieved, gold, c) if gold else None for c in sorted({1, 5, k})}
    out[f"mrr@{k}"] = reciprocal_rank(retrieved, gold, k) if gold else None
    out[f"all_gold@{k}"] = all_gold_at(retrieved, gold, k) if len(gold) > 1 else None
    out[f"quote_hit@{k}"] = quote_hit_at(q.evidence, chunks, k) if gold else None
    return out


def answer_metrics(q: Question, answer: Answer, articles: Mapping[str, Article]) -> Metrics:
    """Metrics of what was shown. Verification applies whenever quotes are shown; citation
    precision to answerable questions that showed quotes; the rest by answerability."""
    quotes = answer.quotes
    shown = bool(quotes)
    return {
        "verification": verification_rate(quotes, articles) if shown else None,
        "citation_precision": citation_precision(quotes, q.gold_articles) if shown and q.answerable else None,
        "evidence_recall": evidence_recall(q.evidence, quotes) if q.answerable else None,
        "answer_contained": contains_answer(q.answer, [answer.text, *(x.text for x in quotes)]) if q.answerable else None,
        "abstention": (1.0 if answer.abstained else 0.0) if not q.answerable else None,
        "false_abstention": (1.0 if answer.abstained else 0.0) if q.answerable else None,
    }


def question_metrics(q: Question, answer: Answer, chunks: Sequence[Span], articles: Mapping[str, Article], k: int) -> Metrics:
    """Every metric of one question, plus its latency (``answer.timings['total']``, seconds)."""
    return {
        **retrieval_metrics(q, answer.retrieved, chunks, k),
        **answer_metrics(q, answer, articles),
        "latency": answer.timings.get("total"),
    }


def summarize(rows: Sequence[tuple[Question, Metrics]]) -> dict[str, dict[str, float | None]]:
    """Mean of each metric over the questions it applies to, for all questions and by ``label``;
    latency as p50/p95; counts of questions."""
    groups: dict[str, list[Metrics]] = {"overall": [m for _, m in rows]}
    for q, m in rows:
        groups.setdefault(q.label, []).append(m)
    ordered = ["overall", *(g for g in KINDS if g in groups), *sorted(g for g in groups if g not in KINDS and g != "overall")]
    asked: dict[str, list[Metrics]] = {}
    for q, m in rows:
        if q.asks:
            asked.setdefault(f"asks {q.asks}", []).append(m)
    return {g: summarize_group(groups[g]) for g in ordered} | {g: summarize_group(asked[g]) for g in sorted(asked)}


def summarize_group(metrics: Sequence[Metrics]) -> dict[str, float | None]:
    names = [n for n in dict.fromkeys(n for m in metrics for n in m) if n != "latency"]
    latencies = [v for m in metrics if (v := m.get("latency")) is not None]
    out: dict[str, float | None] = {"questions": len(metrics)}
    out.update({n: mean([m.get(n) for m in metrics]) for n in names})
    out["latency_p50"] = percentile(latencies, 50)
    out["latency_p95"] = percentile(latencies, 95)
    return out


# ---- running a question set -----------------------------------------------------------------


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    answer: Answer
    chunks: tuple[Chunk, ...]  # the retrieved chunks, for quote-level metrics
    titles: tuple[str, ...]  # their articles' titles, for the report
    metrics: Metrics


@dataclass(frozen=True)
class EvalRun:
    """One evaluation: what was run, on which index, and every question's answer and metrics."""

    config: dict[str, Any]
    settings: dict[str, Any]
    manifest: dict[str, Any]
    results: tuple[QuestionResult, ...]
    metrics: dict[str, dict[str, float | None]]
    k: int

    def to_json(self) -> dict[str, Any]:
        return {
            "format": 1,
            "config": self.config,
            "settings": self.settings,
            "manifest": self.manifest,
            "metrics": self.metrics,
            "questions": [
                {
                    "question": question_to_dict(r.question),
                    "answer": answer_to_dict(r.answer),
                    "retrieved": [
                        {"rank": i, "chunk_id": c.id, "article_id": c.article_id, "title": t, "start": c.start, "end": c.end}
                        for i, (c, t) in enumerate(zip(r.chunks, r.titles, strict=True), start=1)
                    ],
                    "metrics": r.metrics,
                }
                for r in self.results
            ],
        }


def ask_all(newsdesk: Newsdesk, questions: Sequence[Question], k: int, progress: Progress | None = None) -> list[QuestionResult]:
    """Each question through ``Newsdesk.ask`` (history included), as the CLI and the chat ask it."""
    results: list[QuestionResult] = []
    if progress:
        progress(0, len(questions))
    for done, q in enumerate(questions, start=1):
        answer = newsdesk.ask(q.question, history=q.history, filters=Filters())
        index = newsdesk.index
        chunks = tuple(index.chunk(cid) for cid in answer.retrieved_chunks)
        titles = tuple(index.articles[c.article_id].title for c in chunks)
        results.append(QuestionResult(q, answer, chunks, titles, question_metrics(q, answer, chunks, index.articles, k)))
        if progress:
            progress(done, len(questions))
    return results


def run_eval(
    questions_path: Path,
    settings: Settings,
    k: int = 10,
    archive: Sequence[Path] = (),
    out: Path | None = None,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
    half: str | None = None,
) -> EvalRun:
    """Evaluate a question set. With ``archive``, first build a fresh index of it in ``out/index``.
    With ``half`` ("A" or "B"), only that half of the set (``questionsets.half_of``)."""
    started = time.time()
    settings = replace(settings, top_k=max(settings.top_k, k))
    embedder = embedder or make_embedder(settings)
    if archive:
        from .indexing import rebuild

        check_syntax(questions_path)  # fail before a long rebuild, not after it
        settings = replace(settings, index_dir=(out or Path("out/eval")) / "index")
        rebuild(list(archive), settings, embedder=embedder)
    newsdesk = Newsdesk(settings, embedder)
    index = newsdesk.index
    questions = load_questions(questions_path, index.articles)
    if half is not None:
        questions = [q for q in questions if half_of(q.id) == half]
    results = ask_all(newsdesk, questions, k, progress)
    config = {
        "questions": str(questions_path),
        "archive": [str(p) for p in archive],
        "index_dir": str(settings.index_dir),
        "k": k,
        "half": half,
        "out": str(out) if out else None,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 3),
        "newsdesk_version": metadata.version("newsdesk"),
        "code": code_version(),
    }
    return EvalRun(
        redact_data(config, settings), settings_to_json(settings), redact_data(asdict(index.manifest), settings), tuple(results),
        summarize([(r.question, r.metrics) for r in results]), k,
    )


def code_version() -> str | None:
    """The git commit of the code under evaluation, with ``+dirty`` for uncommitted changes (None outside git)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if commit.returncode != 0:
        return None
    return commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def settings_to_json(settings: Settings) -> dict[str, Any]:
    """Settings as JSON data, as they may be shown: every secret "(set)" or "", URL credentials masked."""
    return settings.shown_all()
