"""Question sets: reading and validating the files ``newsdesk eval`` runs.

A question set is JSONL in the project's format (``id, question, answer, evidence[{article_id,
quote}], type, history``) or the MultiHop-RAG layout (``query, answer, question_type,
evidence_list[{title, fact}]``, as JSONL or as the benchmark's JSON list). Gold quotes are exact
text of the *original* article; the index stores the *cleaned* text, so each quote is cleaned the
same way (``cleaning.normalize_text``) and located with the quote verifier, which tolerates
whitespace and typography (see ``docs/evaluation.md``). Every problem is reported as
``file:line: what is wrong``, all of them together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from .cleaning import normalize_inline, normalize_text
from .errors import QuestionSetError
from .quotes import fold, verify
from .records import Article

Kind = Literal["single", "multi", "followup", "null"]
KINDS: tuple[Kind, ...] = ("single", "multi", "followup", "null")
MULTIHOP_NULL_ANSWER = "insufficient information."
MAX_PROBLEMS_SHOWN = 20


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
    asks: str = ""  # the kind of answer asked for, when the set says (who, when, how_many, …): a second breakdown

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
    asks = record.get("kind", "")
    q = Question(qid, text, answer, kind, gold, tuple(history), kind, where, asks if isinstance(asks, str) else "")
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


def half_of(question_id: str) -> str:
    """"A" or "B": a fixed split of any question set by a hash of each question's id. Thresholds and
    weights are chosen on half A; half B is only reported."""
    return "A" if hashlib.sha256(question_id.encode("utf-8")).digest()[0] % 2 == 0 else "B"
