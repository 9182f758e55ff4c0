"""Evaluation: metric functions on hand-made cases, question-set validation, and `newsdesk eval` end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from helpers import FNC, HORNE, REPO, SEEDS
from typer.testing import CliRunner

from assistant.chat import Newsdesk
from assistant.cli import app
from assistant.config import Settings
from assistant.embedding import SentenceTransformerEmbedder
from assistant.errors import QuestionSetError
from assistant.eval_report import failure_reasons
from assistant.evaluation import (
    all_gold_at,
    answer_metrics,
    ask_all,
    citation_precision,
    contains_answer,
    evidence_recall,
    hit_at,
    percentile,
    question_metrics,
    quote_hit_at,
    reciprocal_rank,
    summarize,
    verification_rate,
)
from assistant.indexing import rebuild
from assistant.questionsets import GoldQuote, Question, load_questions
from assistant.quotes import fold
from assistant.records import Answer, Article, Chunk, Filters, Quote
from assistant.sources import Problem, iter_files, read_file

SEED_ID = "000_1188ee5dcc83ef1c"
NEWSDESK = [sys.executable, "-m", "assistant.cli"]


def read_articles(*paths: Path) -> dict[str, Article]:
    """Articles as the index stores them (read and cleaned by the project's own readers)."""
    out: dict[str, Article] = {}
    for path in iter_files(paths):
        if isinstance(path, Path):
            out.update({a.id: a for a in read_file(path) if not isinstance(a, Problem)})
    return out


@pytest.fixture(scope="module")
def seed_articles() -> dict[str, Article]:
    return read_articles(SEEDS)


def article(body: str, article_id: str = "a") -> Article:
    return Article(article_id, "T", body, None, None, None, None, None, "x", 1)


def question(kind: str = "single", evidence: tuple[GoldQuote, ...] = (), answer: str = "x", label: str | None = None) -> Question:
    return Question("q", "?", answer, kind, evidence, (), label or kind, "f:1")  # type: ignore[arg-type]


def answer(quotes: tuple[Quote, ...] = (), abstained: bool = False, text: str = "", retrieved: tuple[str, ...] = ()) -> Answer:
    return Answer("?", text, quotes, (), abstained, "?", Filters(), retrieved=retrieved, timings={"total": 0.5})


# ---- retrieval metrics ----------------------------------------------------------------------


def test_article_ranks_count_each_story_once_and_the_best_gold_wins() -> None:
    retrieved = ["x", "x", "y", "g2", "g1"]  # "x" twice (two chunks of one story): it ranks once
    assert reciprocal_rank(retrieved, ["g1", "g2"], 10) == pytest.approx(1 / 3)
    assert hit_at(retrieved, ["g1"], 1) == 0.0
    assert hit_at(retrieved, ["g1"], 4) == 1.0  # rank 4 once duplicates are folded
    assert reciprocal_rank(retrieved, ["g1"], 3) == 0.0  # beyond the cutoff
    assert all_gold_at(retrieved, ["g1", "g2"], 4) == 1.0
    assert all_gold_at(retrieved, ["g1", "g2"], 3) == 0.0


def test_empty_evidence_or_nothing_retrieved_scores_zero() -> None:
    assert hit_at([], ["g"], 10) == reciprocal_rank([], ["g"], 10) == 0.0
    assert hit_at(["a"], [], 10) == all_gold_at(["a"], [], 10) == 0.0
    assert quote_hit_at([], [Chunk("a", 0, 0, 5, "hello")], 10) == 0.0
    assert evidence_recall([], []) == 0.0


def test_quote_hit_needs_the_whole_gold_quote_inside_one_retrieved_chunk() -> None:
    gold = [GoldQuote("a", 10, 20, "q")]
    assert quote_hit_at(gold, [Chunk("a", 0, 5, 25, "x" * 20)], 10) == 1.0
    assert quote_hit_at(gold, [Chunk("a", 0, 0, 15, "x" * 15), Chunk("a", 1, 15, 30, "x" * 15)], 10) == 0.0  # straddles
    assert quote_hit_at(gold, [Chunk("b", 0, 0, 30, "x" * 30)], 10) == 0.0  # another article
    assert quote_hit_at(gold, [Chunk("b", 0, 0, 30, "x" * 30), Chunk("a", 0, 0, 30, "x" * 30)], 1) == 0.0  # beyond k


# ---- answer metrics -------------------------------------------------------------------------


def test_verification_checks_the_exact_body_text_at_the_offsets() -> None:
    a = article("Kerry spoke with Lavrov on Wednesday.")
    good = Quote("a", 0, 5, "Kerry", 1)
    moved = Quote("a", 1, 6, "Kerry", 1)
    unknown = Quote("zz", 0, 5, "Kerry", 1)
    assert verification_rate([good], {"a": a}) == 1.0
    assert verification_rate([good, moved, unknown, good], {"a": a}) == 0.5
    assert verification_rate([], {"a": a}) == 1.0


def test_citation_precision_and_evidence_recall_with_multi_article_evidence() -> None:
    gold = (GoldQuote("a", 0, 10, "q1"), GoldQuote("b", 50, 60, "q2"))
    shown = [Quote("a", 5, 30, "x" * 25, 1), Quote("c", 0, 10, "x" * 10, 2)]
    assert citation_precision(shown, ["a", "b"]) == 0.5
    assert evidence_recall(gold, shown) == 0.5  # a's quote overlaps, b's is not shown
    assert evidence_recall(gold, [*shown, Quote("b", 59, 70, "x" * 11, 3)]) == 1.0
    assert evidence_recall(gold, [Quote("b", 60, 70, "x" * 10, 1)]) == 0.0  # touching is not overlapping
    assert citation_precision([], ["a"]) == 1.0


def test_short_answer_containment_folds_case_punctuation_and_needs_every_part() -> None:
    assert contains_answer("Sept. 12", ["a cease-fire SEPT 12 that began"]) == 1.0
    assert contains_answer("more than 250,000", ["“More than 250,000” civilians"]) == 1.0
    assert contains_answer("Sept. 12", ["on Sept. 120"]) == 0.0  # whole words only
    assert contains_answer("Cohn, 56; Mulvaney, 49", ["Cohn, 56, is president", "Mulvaney, 49, was"]) == 1.0
    assert contains_answer("Cohn, 56; Mulvaney, 49", ["Cohn, 56, is president"]) == 0.0
    assert contains_answer("O’Brien", ["said O'Brien"]) == 1.0
    assert contains_answer("", ["anything"]) == 0.0


def test_percentile_interpolates_and_handles_ties() -> None:
    assert percentile([3.0, 1.0, 2.0, 4.0], 50) == 2.5
    assert percentile([1.0, 1.0, 1.0, 5.0], 50) == 1.0
    assert percentile([1.0, 2.0], 95) == pytest.approx(1.95)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_null_questions_measure_abstention_and_answerable_ones_false_abstention() -> None:
    a = article("Kerry spoke with Lavrov on Wednesday.")
    null = question("null", answer="")
    assert question_metrics(null, answer(abstained=True), [], {"a": a}, 10) == {
        "hit@1": None, "hit@5": None, "hit@10": None, "mrr@10": None, "all_gold@10": None, "quote_hit@10": None,
        "verification": None, "citation_precision": None, "evidence_recall": None, "answer_contained": None,
        "abstention": 1.0, "false_abstention": None, "latency": 0.5,
    }
    shown = (Quote("a", 0, 5, "Kerry", 1),)
    m = answer_metrics(null, answer(shown, text="Kerry"), {"a": a})
    assert (m["abstention"], m["verification"], m["citation_precision"]) == (0.0, 1.0, None)
    single = question("single", (GoldQuote("a", 17, 23, "Lavrov"),), answer="Lavrov")
    m = answer_metrics(single, answer(abstained=True, text="The archive does not contain an answer."), {"a": a})
    assert (m["false_abstention"], m["evidence_recall"], m["answer_contained"], m["verification"]) == (1.0, 0.0, 0.0, None)


def test_summary_averages_each_metric_over_the_questions_it_applies_to_by_type() -> None:
    rows = [
        (question("single"), {"hit@1": 1.0, "abstention": None, "latency": 0.1}),
        (question("single"), {"hit@1": 0.0, "abstention": None, "latency": 0.3}),
        (question("followup"), {"hit@1": 1.0, "abstention": None, "latency": 0.2}),
        (question("null", answer=""), {"hit@1": None, "abstention": 1.0, "latency": 0.4}),
    ]
    s = summarize(rows)
    assert list(s) == ["overall", "single", "followup", "null"]
    assert s["overall"]["hit@1"] == pytest.approx(2 / 3) and s["overall"]["abstention"] == 1.0
    assert s["single"]["hit@1"] == 0.5 and s["single"]["abstention"] is None
    assert s["null"]["questions"] == 1 and s["null"]["hit@1"] is None
    assert s["overall"]["latency_p50"] == pytest.approx(0.25) and s["single"]["latency_p95"] == pytest.approx(0.29)


def test_followups_are_asked_with_their_history(settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    rebuild([SEEDS], settings, embedder=embedder)
    asked: list[tuple[str, tuple[str, ...]]] = []

    class Recording(Newsdesk):
        def ask(self, question: str, history: Any = (), filters: Filters = Filters()) -> Answer:
            asked.append((question, tuple(history)))
            return super().ask(question, history=history, filters=filters)

    newsdesk = Recording(settings, embedder)
    path = tmp_path / "q.jsonl"
    quote = "where the United Nations has said more than 250,000 civilians are trapped"
    path.write_text(json.dumps({
        "id": "f1", "question": "How many are trapped there?", "answer": "more than 250,000", "type": "followup",
        "history": ["What is happening in eastern Aleppo?"], "evidence": [{"article_id": SEED_ID, "quote": quote}],
    }) + "\n")
    [result] = ask_all(newsdesk, load_questions(path, newsdesk.index.articles), k=10)
    assert asked == [("How many are trapped there?", ("What is happening in eastern Aleppo?",))]
    assert result.metrics["hit@1"] == 1.0 and result.metrics["verification"] in (1.0, None)
    assert [c.id for c in result.chunks] == list(result.answer.retrieved_chunks)


# ---- question sets --------------------------------------------------------------------------


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def record(**fields_: Any) -> str:
    base: dict[str, Any] = {
        "id": "q1", "question": "Who did Kerry call?", "answer": "Sergei Lavrov", "type": "single",
        "evidence": [{"article_id": SEED_ID, "quote": "Russian Foreign Minister Sergei Lavrov"}],
    }
    base.update(fields_)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def problems_of(path: Path, articles: dict[str, Article]) -> str:
    with pytest.raises(QuestionSetError) as info:
        load_questions(path, articles)
    return str(info.value)


def test_a_bad_json_line_is_named_by_file_and_line(tmp_path: Path, seed_articles: dict[str, Article]) -> None:
    path = write_lines(tmp_path / "set.jsonl", record(), '{"id": "q2", "question": ', "", record(id="q3"))
    message = problems_of(path, seed_articles)
    assert f"{path}:2: invalid JSON" in message and "1 problem" in message


def test_missing_fields_and_wrong_values_are_named_by_line(tmp_path: Path, seed_articles: dict[str, Article]) -> None:
    path = write_lines(
        tmp_path / "set.jsonl",
        record(evidence=..., type=...),
        record(id="q2", type="yesno"),
        record(id="q3", type="followup"),
        record(id="q4", type="null"),
        record(id="q1"),
        record(id="q6", type="multi"),
        "[1, 2]",
    )
    message = problems_of(path, seed_articles)
    assert f"{path}:1: missing field(s) evidence, type" in message
    assert f"{path}:2: type 'yesno' is not one of single, multi, followup, null" in message
    assert f"{path}:3: a followup question needs a non-empty history" in message
    assert f"{path}:4: a null question must have empty evidence" in message
    assert f"{path}:5: duplicate id 'q1' (first at {path}:1)" not in message  # line 1 was invalid, so q1 is new here
    assert f"{path}:6: a multi question needs evidence from at least two articles" in message
    assert f"{path}:7: a question must be a JSON object" in message


def test_a_quote_not_in_the_article_or_an_unknown_article_is_named_by_line(tmp_path: Path, seed_articles: dict[str, Article]) -> None:
    path = write_lines(
        tmp_path / "set.jsonl",
        record(),
        record(id="q2", evidence=[{"article_id": SEED_ID, "quote": "Kerry resigned on Friday."}]),
        record(id="q3", evidence=[{"article_id": "nope", "quote": "Kerry"}]),
        record(id="q1"),
    )
    message = problems_of(path, seed_articles)
    assert f"{path}:2: evidence[0]: quote not found in article '{SEED_ID}' (after cleaning): 'Kerry resigned on Friday.'" in message
    assert f"{path}:3: evidence[0]: article 'nope' is not in the index" in message
    assert f"{path}:4: duplicate id 'q1' (first at {path}:1)" in message


def test_gold_quotes_tolerate_the_cleaning_whitespace_and_typography(tmp_path: Path, seed_articles: dict[str, Article]) -> None:
    original = "Kerry “expressed grave concern over the deteriorating situation in Syria"
    variants = [original, original.replace(" ", "  \n "), original.replace("“", '"'), "\u200b" + original.replace(" ", "\u00a0")]
    path = write_lines(tmp_path / "set.jsonl", *(record(id=f"q{i}", evidence=[{"article_id": SEED_ID, "quote": v}]) for i, v in enumerate(variants)))
    spans = {(g.start, g.end) for q in load_questions(path, seed_articles) for g in q.evidence}
    assert len(spans) == 1
    start, end = spans.pop()
    assert seed_articles[SEED_ID].body[start:end] == original


def test_multihop_rag_layout_maps_titles_to_articles(tmp_path: Path, seed_articles: dict[str, Article]) -> None:
    fact = "where the United Nations has said more than 250,000 civilians are trapped"
    title = "U.S.  threatens to suspend all BILATERAL cooperation with Russia"  # spacing and case differ
    items = [
        {"query": "How many civilians are trapped?", "answer": "250,000", "question_type": "inference_query",
         "evidence_list": [{"title": title, "fact": fact, "source": "The Washington Post", "author": "x"}]},
        {"query": "Who won?", "answer": "Insufficient information.", "question_type": "null_query", "evidence_list": []},
    ]
    path = tmp_path / "MultiHopRAG.json"
    path.write_text(json.dumps(items, indent=2), encoding="utf-8")
    first, second = load_questions(path, seed_articles)
    assert (first.id, first.type, first.label, first.gold_articles) == ("q0001", "single", "inference_query", (SEED_ID,))
    assert seed_articles[SEED_ID].body[first.evidence[0].start : first.evidence[0].end] == fact
    starts = [n for n, line in enumerate(path.read_text().splitlines(), start=1) if line == "  {"]  # each item's first line
    assert (first.where, second.where) == (f"{path}:{starts[0]}", f"{path}:{starts[1]}")
    assert (second.type, second.label, second.answer) == ("null", "null_query", "")
    items[0]["evidence_list"][0]["title"] = "No such story"
    path.write_text(json.dumps(items, indent=2), encoding="utf-8")
    assert f"{path}:2: evidence_list[0]: no article titled 'No such story' in the index" in problems_of(path, seed_articles)


def question_sets() -> list[Path]:
    return sorted(p for p in [*REPO.glob("seeds/*.jsonl"), *REPO.glob("evals/*.jsonl")] if p.name != "examples.jsonl")


@pytest.mark.parametrize("path", question_sets(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_question_set_in_the_repo_validates_against_the_cleaned_articles(path: Path) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    articles = {**read_articles(SEEDS), **read_articles(HORNE), **read_articles(FNC)}
    questions = load_questions(path, articles)
    assert len(questions) == len(lines)
    for q in questions:
        for g in q.evidence:
            body = articles[g.article_id].body
            assert fold(body[g.start : g.end])[0] == fold(" ".join(g.text.split()))[0]


def test_the_near_miss_sets_pass_their_committed_check() -> None:
    """Every unanswerable near-miss question was checked by grepping its whole archive (evals/check_nearmiss.py)."""
    run = subprocess.run([sys.executable, "evals/check_nearmiss.py"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "OK: all checks passed" in run.stdout


# ---- newsdesk eval end to end -----------------------------------------------------------------


def cli_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(NEWSDESK_INDEX_DIR=str(tmp / "unused-index"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    return env


@pytest.fixture(scope="module")
def seed_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`newsdesk eval seeds/questions.jsonl --archive seeds/000_1188ee5dcc83ef1c.txt --out OUT` through the real CLI."""
    out = tmp_path_factory.mktemp("eval") / "out"
    run = subprocess.run(
        [*NEWSDESK, "eval", "seeds/questions.jsonl", "--archive", "seeds/000_1188ee5dcc83ef1c.txt", "--out", str(out)],
        cwd=REPO, env=cli_env(out.parent), capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "short answer contained" in run.stdout and "report.json" in run.stdout
    return out


def test_eval_writes_the_three_report_files(seed_report: Path) -> None:
    assert (seed_report / "index" / "LIVE").is_file()
    assert (seed_report / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (seed_report / "report.md").read_text(encoding="utf-8")
    assert "| metric | overall | single | followup | null |" in md and "## Failures" in md
    data = json.loads((seed_report / "report.json").read_text(encoding="utf-8"))
    assert len(data["questions"]) == 21 and data["manifest"]["articles"] == 1 and data["config"]["k"] == 10
    assert data["settings"]["llm_api_key"] == ""
    answer_fields = {f.name for f in fields(Answer)}
    assert all(set(e["answer"]) == answer_fields for e in data["questions"])


def test_report_numbers_match_a_recomputation_from_the_answers(seed_report: Path, seed_articles: dict[str, Article]) -> None:
    """Recompute every metric from the answer objects in report.json, independently of the harness."""
    data = json.loads((seed_report / "report.json").read_text(encoding="utf-8"))
    groups: dict[str, list[dict[str, float | None]]] = {"overall": []}
    for entry in data["questions"]:
        q, a = entry["question"], entry["answer"]
        mine = recompute(q, a, entry["retrieved"], seed_articles)
        assert mine == pytest.approx({k: v for k, v in entry["metrics"].items() if k != "latency"}), q["id"]
        assert entry["metrics"]["latency"] == a["timings"]["total"]
        groups["overall"].append(mine)
        groups.setdefault(q["type"], []).append(mine)
    for group, rows in groups.items():
        reported = data["metrics"][group]
        assert reported["questions"] == len(rows)
        for name in rows[0]:
            values = [r[name] for r in rows if r[name] is not None]
            assert reported[name] == (pytest.approx(sum(values) / len(values)) if values else None), (group, name)
    latencies = sorted(e["answer"]["timings"]["total"] for e in data["questions"])
    assert data["metrics"]["overall"]["latency_p50"] == pytest.approx(latencies[len(latencies) // 2])
    assert data["metrics"]["overall"]["verification"] == 1.0


def recompute(q: dict[str, Any], a: dict[str, Any], retrieved: list[dict[str, Any]], articles: dict[str, Article]) -> dict[str, float | None]:
    gold = list(dict.fromkeys(g["article_id"] for g in q["evidence"]))
    ranked = list(dict.fromkeys(a["retrieved"]))
    answerable = q["type"] != "null"
    rank = next((i for i, x in enumerate(ranked[:10], start=1) if x in gold), None)
    quote_hit = any(g["article_id"] == c["article_id"] and c["start"] <= g["start"] and g["end"] <= c["end"] for g in q["evidence"] for c in retrieved[:10])
    quotes = a["quotes"]
    shown = [words(t) for t in [a["text"], *(x["text"] for x in quotes)]]
    covered = [g for g in q["evidence"] if any(x["article_id"] == g["article_id"] and x["start"] < g["end"] and g["start"] < x["end"] for x in quotes)]

    def when(ok: bool, value: float) -> float | None:
        return value if ok else None

    return {
        "hit@1": when(answerable, float(rank == 1)),
        "hit@5": when(answerable, float(rank is not None and rank <= 5)),
        "hit@10": when(answerable, float(rank is not None)),
        "mrr@10": when(answerable, 1 / rank if rank else 0.0),
        "all_gold@10": when(len(gold) > 1, float(set(gold) <= set(ranked[:10]))),
        "quote_hit@10": when(answerable, float(quote_hit)),
        "verification": when(bool(quotes), sum(articles[x["article_id"]].body[x["start"] : x["end"]] == x["text"] for x in quotes) / max(1, len(quotes))),
        "citation_precision": when(bool(quotes) and answerable, sum(x["article_id"] in gold for x in quotes) / max(1, len(quotes))),
        "evidence_recall": when(answerable, len(covered) / max(1, len(q["evidence"]))),
        "answer_contained": when(answerable, float(all(any(words(p) in t for t in shown) for p in q["answer"].split(";")))),
        "abstention": when(not answerable, float(a["abstained"])),
        "false_abstention": when(answerable, float(a["abstained"])),
    }


def words(text: str) -> str:
    """The documented normalisation: lower case, every run of non-word characters one space, padded."""
    return " " + " ".join(re.sub(r"\W+", " ", text.replace("’", "'").lower()).split()) + " "


def test_compare_prints_two_reports_side_by_side_with_deltas(seed_report: Path, tmp_path: Path) -> None:
    report = seed_report / "report.json"
    data = json.loads(report.read_text(encoding="utf-8"))
    hit1 = data["metrics"]["overall"]["hit@1"]
    data["metrics"]["overall"]["hit@1"] = 0.25
    entry = next(e for e in data["questions"] if e["question"]["type"] == "single" and not failure_reasons(e, 10))
    entry["metrics"]["false_abstention"] = 1.0  # in A, this question abstained
    before = tmp_path / "before.json"
    before.write_text(json.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "--compare", str(before), str(report)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Δ (B − A)" in result.output and "+0.000" in result.output
    assert f"{hit1 - 0.25:+.3f}" in result.output
    assert f"Passing only in B (1): {entry['question']['id']}" in result.output
    assert "Failing only in B (0)" in result.output
    for group in ("overall", "single", "followup", "null"):
        assert group in result.output


def test_a_malformed_question_set_fails_through_the_cli_naming_the_line(tmp_path: Path) -> None:
    bad = write_lines(tmp_path / "bad.jsonl", record(), "{not json")
    run = subprocess.run(
        [*NEWSDESK, "eval", str(bad), "--archive", "seeds/000_1188ee5dcc83ef1c.txt", "--out", str(tmp_path / "out")],
        cwd=REPO, env=cli_env(tmp_path), capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 2
    assert f"{bad}:2: invalid JSON" in " ".join(run.stderr.split())
    assert not (tmp_path / "out" / "index").exists()  # refused before building an index
