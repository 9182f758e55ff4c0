"""Evaluation: question sets → ``Newsdesk.ask`` → per-question metrics → a summary by question type.

A question set is JSONL in the project's format (``id, question, answer, evidence[{article_id,
quote}], type, history``) or the MultiHop-RAG layout (``query, answer, question_type,
evidence_list[{title, fact}]``, as JSONL or as the benchmark's JSON list). Gold quotes are exact
text of the *original* article; the index stores the *cleaned* text, so each quote is cleaned the
same way (``cleaning.normalize_text``) and located with the quote verifier, which tolerates
whitespace and typography (see ``docs/evaluation.md``). Every metric is a small pure function;
``question_metrics`` applies them to one answer and ``summarize`` averages them by type.

Reports (JSON, Markdown, plot) and terminal tables are in ``eval_report``.
"""

from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, Protocol

from .chat import Newsdesk
from .cleaning import normalize_inline, normalize_text
from .config import Settings
from .embedding import Embedder, make_embedder
from .errors import QuestionSetError
from .quotes import fold, verify
from .records import Answer, Article, Chunk, Filters, Quote, answer_to_dict

Kind = Literal["single", "multi", "followup", "null"]
KINDS: tuple[Kind, ...] = ("single", "multi", "followup", "null")
MULTIHOP_NULL_ANSWER = "insufficient information."
MAX_PROBLEMS_SHOWN = 20
SECRET_SETTINGS = ("llm_api_key", "auth_password")

Metrics = dict[str, float | None]  # per question; None = the metric does not apply to this question
Progress = Callable[[int, int], None]  # (questions done, total)


# ---- question sets -------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldQuote:
    """A gold quote located in the cleaned article body: ``[start, end)`` holds its text."""

    article_id: str
    start: int
    end: int
    text: str  # as written in the question set (the original article's text)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: str  # short gold answer; parts separated by ";" must all appear; "" for null questions
    type: Kind
    evidence: tuple[GoldQuote, ...]
    history: tuple[str, ...]
    label: str  # what the report breaks down by: ``type``, or MultiHop-RAG's ``question_type``
    where: str  # "file:line"

    @property
    def gold_articles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(g.article_id for g in self.evidence))

    @property
    def answerable(self) -> bool:
        return self.type != "null"


def load_questions(path: Path, articles: Mapping[str, Article]) -> list[Question]:
    """Read and validate a question set against ``articles`` (the index's cleaned articles).

    Every problem is collected and reported together, each as ``file:line: what is wrong``.
    """
    problems: list[str] = []
    questions: list[Question] = []
    titles = TitleIndex(articles)
    seen: dict[str, str] = {}
    for number, (where, record) in enumerate(read_records(path, problems), start=1):
        before = len(problems)
        q = parse_question(record, where, number, articles, titles, problems)
        if q is not None and q.id in seen:
            problems.append(f"{where}: duplicate id {q.id!r} (first at {seen[q.id]})")
        elif q is not None and len(problems) == before:
            seen[q.id] = where
            questions.append(q)
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = f"\n  … and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise QuestionSetError(
            f"{path} is not a usable question set ({len(problems)} problem(s)):\n  " + "\n  ".join(shown) + more
        )
    if not questions:
        raise QuestionSetError(f"{path}: no questions found.")
    return questions


def read_records(path: Path, problems: list[str]) -> Iterator[tuple[str, Any]]:
    """(``file:line``, decoded JSON) for each record of a JSONL file or a JSON list."""
    try:
        data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    except OSError as exc:
        raise QuestionSetError(f"{path}: cannot read the question set ({exc.strerror or exc}).") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise QuestionSetError(f"{path}:{line}: not UTF-8 text.") from None
    if text.lstrip().startswith("["):
        yield from _json_list(path, text, problems)
        return
    for line, raw in enumerate(text.split("\n"), start=1):
        if raw.strip():
            try:
                yield f"{path}:{line}", json.loads(raw)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{line}: invalid JSON ({exc.msg} at column {exc.colno})")


def _json_list(path: Path, text: str, problems: list[str]) -> Iterator[tuple[str, Any]]:
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return
        line = text.count("\n", 0, pos) + 1
        try:
            record, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{exc.lineno}: invalid JSON ({exc.msg} at column {exc.colno})")
            return
        yield f"{path}:{line}", record


def check_syntax(path: Path) -> None:
    """Raise on unreadable files and invalid JSON lines (what can be checked without the articles)."""
    problems: list[str] = []
    for _ in read_records(path, problems):
        pass
    if problems:
        raise QuestionSetError(f"{path} is not a usable question set:\n  " + "\n  ".join(problems[:MAX_PROBLEMS_SHOWN]))


def parse_question(
    record: Any, where: str, number: int, articles: Mapping[str, Article], titles: TitleIndex, problems: list[str]
) -> Question | None:
    if not isinstance(record, dict):
        problems.append(f"{where}: a question must be a JSON object, not a JSON {type(record).__name__}")
        return None
    if "query" in record and "question" not in record:
        return _multihop_question(record, where, number, articles, titles, problems)
    return _project_question(record, where, articles, problems)


def _project_question(record: dict[str, Any], where: str, articles: Mapping[str, Article], problems: list[str]) -> Question | None:
    missing = [k for k in ("id", "question", "answer", "evidence", "type") if k not in record]
    if missing:
        problems.append(f"{where}: missing field(s) {', '.join(missing)}")
        return None
    start = len(problems)
    qid, text, answer, kind, evidence = (record[k] for k in ("id", "question", "answer", "type", "evidence"))
    history = record.get("history", [])
    _expect(isinstance(qid, str) and qid.strip() != "", where, "id must be a non-empty string", problems)
    _expect(isinstance(text, str) and text.strip() != "", where, "question must be a non-empty string", problems)
    _expect(isinstance(answer, str), where, "answer must be a string", problems)
    _expect(kind in KINDS, where, f"type {kind!r} is not one of {', '.join(KINDS)}", problems)
    _expect(isinstance(evidence, list), where, "evidence must be a list", problems)
    _expect(isinstance(history, list) and all(isinstance(h, str) for h in history), where, "history must be a list of strings", problems)
    if len(problems) > start:
        return None
    gold = tuple(g for i, e in enumerate(evidence) if (g := _project_evidence(e, f"{where}: evidence[{i}]", articles, problems)))
    q = Question(qid, text, answer, kind, gold, tuple(history), kind, where)
    _check_kind(q, len(evidence), problems)
    return q


def _project_evidence(entry: Any, where: str, articles: Mapping[str, Article], problems: list[str]) -> GoldQuote | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("article_id"), str) or not isinstance(entry.get("quote"), str):
        problems.append(f"{where}: must be an object with string fields article_id and quote")
        return None
    article = articles.get(entry["article_id"])
    if article is None:
        problems.append(f"{where}: article {entry['article_id']!r} is not in the index")
        return None
    return locate_quote(article, entry["quote"], where, problems)


def _multihop_question(
    record: dict[str, Any], where: str, number: int, articles: Mapping[str, Article], titles: TitleIndex, problems: list[str]
) -> Question | None:
    values: list[Any] = [record.get(k) for k in ("query", "answer", "question_type", "evidence_list")]
    query, answer, label, evidence = values
    start = len(problems)
    _expect(isinstance(query, str) and query.strip() != "", where, "query must be a non-empty string", problems)
    _expect(isinstance(answer, str), where, "answer must be a string", problems)
    _expect(isinstance(label, str) and label != "", where, "question_type must be a non-empty string", problems)
    _expect(isinstance(evidence, list), where, "evidence_list must be a list", problems)
    if len(problems) > start:
        return None
    qid = str(record.get("id") or f"q{number:04d}")
    if label == "null_query" or answer.strip().lower() == MULTIHOP_NULL_ANSWER:
        return Question(qid, query, "", "null", (), (), label, where)
    gold = tuple(g for i, e in enumerate(evidence) if (g := _multihop_evidence(e, f"{where}: evidence_list[{i}]", titles, problems)))
    kind: Kind = "multi" if len({g.article_id for g in gold}) > 1 else "single"
    q = Question(qid, query, answer, kind, gold, (), label, where)
    _check_kind(q, len(evidence), problems)
    return q


def _multihop_evidence(entry: Any, where: str, titles: TitleIndex, problems: list[str]) -> GoldQuote | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("title"), str) or not isinstance(entry.get("fact"), str):
        problems.append(f"{where}: must be an object with string fields title and fact")
        return None
    candidates = titles.lookup(entry["title"])
    if not candidates:
        problems.append(f"{where}: no article titled {entry['title'][:80]!r} in the index")
        return None
    for article in candidates:  # same title twice: the article that holds the fact
        found = locate_quote(article, entry["fact"], where, [])
        if found is not None:
            return found
    return locate_quote(candidates[0], entry["fact"], where, problems)


def _check_kind(q: Question, evidence_count: int, problems: list[str]) -> None:
    if q.type == "null":
        _expect(evidence_count == 0, q.where, "a null question must have empty evidence", problems)
        return
    _expect(evidence_count > 0, q.where, f"a {q.type} question needs evidence", problems)
    _expect(q.answer.strip() != "", q.where, f"a {q.type} question needs a non-empty answer", problems)
    if q.type == "multi" and len(q.evidence) == evidence_count:
        _expect(len(q.gold_articles) >= 2, q.where, "a multi question needs evidence from at least two articles", problems)
    if q.type == "followup":
        _expect(bool(q.history), q.where, "a followup question needs a non-empty history", problems)


def _expect(ok: bool, where: str, message: str, problems: list[str]) -> None:
    if not ok:
        problems.append(f"{where}: {message}")


def locate_quote(article: Article, quote: str, where: str, problems: list[str]) -> GoldQuote | None:
    """The span of a gold quote in the cleaned body: the quote is cleaned like the article was
    (``normalize_text``), then found exactly or modulo whitespace/typography (``quotes.verify``)."""
    cleaned = normalize_text(quote)
    check = verify(article, cleaned) if cleaned else None
    if check is None or not check.ok:
        problems.append(f"{where}: quote not found in article {article.id!r} (after cleaning): {quote[:80]!r}")
        return None
    return GoldQuote(article.id, check.parts[0].start, check.parts[-1].end, quote)


def normalize_title(title: str) -> str:
    """Titles compared for MultiHop-RAG evidence: cleaned, typography folded, case and spacing ignored."""
    return " ".join(fold(normalize_inline(title))[0].casefold().split())


class TitleIndex:
    """The index's articles by normalised title (built on first use)."""

    def __init__(self, articles: Mapping[str, Article]) -> None:
        self._articles = articles
        self._by_title: dict[str, list[Article]] | None = None

    def lookup(self, title: str) -> list[Article]:
        if self._by_title is None:
            self._by_title = {}
            for a in self._articles.values():
                self._by_title.setdefault(normalize_title(a.title), []).append(a)
        return self._by_title.get(normalize_title(title), [])


def question_to_dict(q: Question) -> dict[str, Any]:
    data = asdict(q)
    data["evidence"] = [asdict(g) for g in q.evidence]
    data["history"] = list(q.history)
    return data


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
    return {g: summarize_group(groups[g]) for g in ordered}


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
) -> EvalRun:
    """Evaluate a question set. With ``archive``, first build a fresh index of it in ``out/index``."""
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
    results = ask_all(newsdesk, questions, k, progress)
    config = {
        "questions": str(questions_path),
        "archive": [str(p) for p in archive],
        "index_dir": str(settings.index_dir),
        "k": k,
        "out": str(out) if out else None,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 3),
        "newsdesk_version": metadata.version("newsdesk"),
        "code": code_version(),
    }
    return EvalRun(
        config, settings_to_json(settings), asdict(index.manifest), tuple(results),
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
    """Settings as JSON data, secrets redacted."""
    data: dict[str, Any] = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if f.name in SECRET_SETTINGS:
            value = "(set)" if value else ""
        data[f.name] = str(value) if isinstance(value, Path) else value
    return data
