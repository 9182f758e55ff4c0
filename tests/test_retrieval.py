"""Retrieval: hybrid BM25 + dense, filters, periods, syndicated copies, follow-ups, the real archive."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from helpers import REPO, assert_quotes_verify, desk_of

from assistant.chat import Newsdesk
from assistant.config import Settings
from assistant.embedding import SentenceTransformerEmbedder
from assistant.indexing import rebuild
from assistant.lexical import terms
from assistant.question import is_dependent, standalone_query
from assistant.records import Filters
from assistant.retrieval import retrieve

WAPO = (
    "The city's transit authority voted on Tuesday to close the Green Line for eleven months of repairs, "
    "starting in January. Officials said the 40-year-old tracks had become unsafe at high speeds. "
    "Riders will be offered shuttle buses between the six affected stations. "
    "The repairs will cost an estimated $310 million, paid mostly from federal grants. "
    "Transit chief Maria Okonkwo-Haldane said the closure was the only way to finish the work quickly."
)
COPY = WAPO.replace("voted on Tuesday", "decided Tuesday").replace("Riders will be offered", "Riders are being offered") + (
    "\n\n(c) 2016, The Washington Post · Lena Park"
)
ARTICLES = [
    {"id": "wapo-green", "title": "Green Line to close for 11 months", "body": WAPO, "publisher": "The Washington Post",
     "author": "Lena Park", "published_at": "2016-09-21", "url": "https://www.washingtonpost.com/green-line"},
    {"id": "b911-green", "title": "BREAKING: Green Line shutdown approved", "body": COPY, "publisher": "breaking911.com",
     "published_at": "2016-09-22", "url": "https://breaking911.com/green-line"},
    {"id": "doctor", "title": "Mayor recovering after hospital stay", "publisher": "Metro Daily", "published_at": "2016-09-27",
     "body": "The mayor's physician told reporters the patient's cardiac condition had improved markedly overnight. "
             "He is expected to return to City Hall within a fortnight, aides said."},
    {"id": "bridge-old", "title": "Harbor bridge inspection scheduled", "publisher": "Metro Daily", "published_at": "2016-09-05",
     "body": "Engineers will inspect the harbor bridge next month after residents reported cracks in the concrete deck."},
    {"id": "bridge-new", "title": "Harbor bridge closed after inspection", "publisher": "Harbor Times", "published_at": "2016-09-23",
     "body": "The harbor bridge was closed to traffic on Friday after inspectors found corroded steel cables beneath the deck."},
    {"id": "undated", "title": "Library extends opening hours", "publisher": "Harbor Times",
     "body": "The central library will stay open until 10 p.m. on weekdays, the library board announced, citing demand from students."},
    {"id": "budget", "title": "Council passes budget", "publisher": "Metro Daily", "published_at": "2016-09-28",
     "body": "The city council passed a $2.1 billion budget on Wednesday after a nine-hour debate over police overtime and school repairs."},
]


@pytest.fixture(scope="module")
def newsdesk(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Newsdesk:
    root = tmp_path_factory.mktemp("metro")
    (root / "feed.jsonl").write_text("\n".join(json.dumps(a) for a in ARTICLES), encoding="utf-8")
    settings = Settings.from_env(index_dir=root / "index")
    report = rebuild([root / "feed.jsonl"], settings, embedder=embedder)
    assert report.articles == len(ARTICLES)
    return Newsdesk(settings, embedder)


def test_exact_names_are_found_by_bm25(newsdesk: Newsdesk) -> None:
    index = newsdesk.index
    r = retrieve(index, "What did Okonkwo-Haldane say?", Filters(), newsdesk.settings)
    assert r.hits[0].article.id == "wapo-green" and r.hits[0].sparse_rank == 1
    assert "Okonkwo-Haldane" in r.evidence[0].text


def test_paraphrases_are_found_by_the_dense_side(newsdesk: Newsdesk) -> None:
    question = "What did the doctor say about the heart problem?"
    assert not (set(terms(question)) & set(terms(ARTICLES[2]["body"] + ARTICLES[2]["title"])))  # no shared word
    r = retrieve(newsdesk.index, question, Filters(), newsdesk.settings)
    assert r.hits[0].article.id == "doctor" and r.hits[0].sparse_rank is None and r.hits[0].dense_rank == 1


def test_syndicated_copies_return_once_preferring_the_original(newsdesk: Newsdesk) -> None:
    index = newsdesk.index
    assert index.groups.members == {"wapo-green": ["wapo-green", "b911-green"]}
    assert index.articles["b911-green"].credit == "The Washington Post"
    r = retrieve(index, "How long will the Green Line close and why?", Filters(), newsdesk.settings)
    ids = [h.article.id for h in r.hits]
    assert ids[0] == "wapo-green" and "b911-green" not in ids
    assert r.hits[0].also_published_by == ("breaking911.com",)
    answer = newsdesk.ask("How long will the Green Line close and why?")
    assert answer.sources[0].also_published_by == ("breaking911.com",)
    assert_quotes_verify(answer, index)


def test_publisher_and_date_filters(newsdesk: Newsdesk) -> None:
    r = retrieve(newsdesk.index, "harbor bridge", Filters(publishers=("Harbor Times",)), newsdesk.settings)
    assert {h.article.publisher for h in r.hits} == {"Harbor Times"}
    answer = newsdesk.ask("What happened to the harbor bridge?", filters=Filters(publishers=("metro daily",)))
    assert answer.filters.publishers == ("Metro Daily",)  # resolved to the archive's spelling
    assert {s.publisher for s in answer.sources} <= {"Metro Daily"}
    r = retrieve(newsdesk.index, "harbor bridge", Filters(since=date(2016, 9, 20), until=date(2016, 9, 30)), newsdesk.settings)
    assert "bridge-old" not in [h.article.id for h in r.hits] and r.hits[0].article.id == "bridge-new"


def test_undated_articles_are_searched_unless_a_period_is_given(newsdesk: Newsdesk) -> None:
    answer = newsdesk.ask("How late does the central library stay open?")
    assert answer.sources and answer.sources[0].article_id == "undated"
    dated = newsdesk.ask("How late does the central library stay open?", filters=Filters(since=date(2016, 9, 1)))
    assert "undated" not in dated.retrieved
    assert any("1 undated articles were not searched" in n for n in dated.notes)


def test_last_week_is_resolved_against_the_archive_and_stated(newsdesk: Newsdesk) -> None:
    answer = newsdesk.ask("What happened to the harbor bridge last week?")
    assert (answer.filters.since, answer.filters.until) == (date(2016, 9, 19), date(2016, 9, 25))
    assert "Searched articles from 19–25 Sept 2016." in answer.notes
    assert answer.retrieved[0] == "bridge-new" and "bridge-old" not in answer.retrieved
    assert "last week" not in answer.searched_query


def test_a_period_over_an_archive_with_no_dated_article_is_said_not_applied(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    undated = [a for a in ARTICLES if "published_at" not in a] + [
        {k: v for k, v in a.items() if k != "published_at"} for a in ARTICLES if a["id"] == "bridge-new"
    ]
    desk = desk_of(tmp_path, undated, embedder)
    for question, phrase in (("What happened to the harbor bridge last week?", "last week"),
                             ("What happened to the harbor bridge in September 2016?", "in September 2016")):
        answer = desk.ask(question)
        assert answer.retrieved[0] == "bridge-new"  # every article searched, the period not silently dropped
        assert f"The question names a period (“{phrase}”), but no article in the archive is dated, so it could " \
            "not be applied: every article was searched." in answer.notes, answer.notes
        assert not any(n.startswith("Searched ") for n in answer.notes)


def test_latest_prefers_the_newest_story(newsdesk: Newsdesk) -> None:
    answer = newsdesk.ask("What is the latest on the harbor bridge?")
    assert answer.retrieved.index("bridge-new") < answer.retrieved.index("bridge-old")


def test_follow_up_questions_are_rewritten(newsdesk: Newsdesk) -> None:
    history = ["What did the transit authority decide about the Green Line?"]
    assert is_dependent("How much will it cost?") and not is_dependent("What did the city council pass on Wednesday?")
    assert is_dependent("Which Nobel Prize winner is quoted in that story?")  # names, but about the story just discussed
    assert not is_dependent("Which Nobel Prize winner spoke at that Stockholm gala?")
    answer = newsdesk.ask("How much will it cost?", history=history)
    assert answer.searched_query == "What did the transit authority decide about the Green Line? How much will it cost?"
    assert answer.sources[0].article_id == "wapo-green"
    assert any("$310 million" in q.text for q in answer.quotes)
    assert standalone_query(history, "What did the city council pass on Wednesday?") == "What did the city council pass on Wednesday?"


def test_abstains_with_coverage_when_the_archive_has_no_answer(newsdesk: Newsdesk) -> None:
    answer = newsdesk.ask("How many goals did the city's football team score in the cup final?")
    assert answer.abstained and not answer.quotes
    assert answer.nearest and "Searched 7 of 7 articles" in answer.coverage
    assert "Harbor Times" in answer.coverage and "2016-09-05 to 2016-09-28" in answer.coverage


def test_retrieval_over_the_real_horne_archive(horne_settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    newsdesk = Newsdesk(horne_settings, embedder)
    questions = [json.loads(line) for line in (REPO / "evals" / "horne_dev.jsonl").open(encoding="utf-8")]
    singles = [q for q in questions if q["type"] == "single"]
    top1 = 0
    for q in singles:
        answer = newsdesk.ask(q["question"])
        assert_quotes_verify(answer, newsdesk.index)
        top1 += answer.retrieved[0] == q["evidence"][0]["article_id"]
    assert top1 / len(singles) >= 0.9


def test_settings_change_fusion(newsdesk: Newsdesk) -> None:
    dense_only = replace(newsdesk.settings, sparse_weight=0.0)
    r = retrieve(newsdesk.index, "What did Okonkwo-Haldane say?", Filters(), dense_only)
    assert r.hits and all(h.sparse_rank is None for h in r.hits)
    single = [h for h in r.hits if not h.also_published_by]  # a story's score is its best copy's
    assert single and all(h.score == pytest.approx(1 / (60 + h.dense_rank)) for h in single)  # type: ignore[operator]


def test_grouping_many_near_identical_articles_terminates() -> None:
    from assistant.dedupe import StoryGrouper
    from assistant.records import Article

    grouper = StoryGrouper()
    template = (
        "The county board met on Monday and approved the annual road repair plan for district {n}, after a long debate "
        "about potholes, bridge inspections, snow removal budgets, bus shelters and the cost of new traffic lights near "
        "the elementary school, which parents had requested for three years in a row before the vote finally passed. "
    )
    for n in range(20):
        grouper.add(Article(f"a{n}", "t", template.format(n=n) + f"Extra note {n}.", None, None, None, None, None, "m", 1))
    groups = grouper.groups()
    assert sum(len(m) for m in groups.members.values()) == 20


def test_a_two_part_question_gets_a_sentence_for_each_part(newsdesk: Newsdesk) -> None:
    question = "How much will the Green Line repairs cost, and what did the mayor's physician say about his condition?"
    answer = newsdesk.ask(question)
    shown = " ".join(q.text for q in answer.quotes)
    assert "$310 million" in shown and "cardiac condition had improved" in shown
    assert_quotes_verify(answer, newsdesk.index)


def test_question_parts_and_their_merge() -> None:
    from assistant.question import question_parts
    from assistant.records import Evidence
    from assistant.retrieval import merge_parts

    assert question_parts("Who won the vote, and which union endorsed him?") == ["Who won the vote", "which union endorsed him?"]
    assert question_parts("Who won the vote and the seat?") == ["Who won the vote and the seat?"]
    assert question_parts("Where, and what?") == ["Where, and what?"]  # parts too short to search alone
    first = [Evidence("a", 0, 5, "aaaaa", 0.8), Evidence("a", 6, 9, "bbb", 0.4)]
    second = [Evidence("b", 0, 5, "ccccc", 0.4), Evidence("a", 6, 9, "bbb", 0.1)]
    merged = merge_parts([first, second])
    assert [(e.article_id, e.start) for e in merged] == [("a", 0), ("b", 0), ("a", 6)]
    assert merged[1].score == pytest.approx(0.8) and merged[2].score == pytest.approx(0.4)


def test_a_question_asking_for_a_figure_leads_with_a_sentence_that_has_one(newsdesk: Newsdesk) -> None:
    answer = newsdesk.ask("How much will the Green Line closure cost?")
    assert not answer.abstained and "$310 million" in answer.quotes[0].text
