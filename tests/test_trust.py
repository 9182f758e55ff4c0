"""Answers a reader can trust: only quotes that carry what is asked, the direct answer inside the
lead quote, three plainly said outcomes, publishers named in the question, and the learned
answerability judgement (trained end to end on a tiny fixture; the shipped weights rebuilt exactly)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO, assert_quotes_verify, desk_of

from assistant.answerability import FEATURES, Model, fit, shipped_model, signals
from assistant.chat import Newsdesk
from assistant.config import Settings
from assistant.embedding import SentenceTransformerEmbedder
from assistant.questionsets import half_of
from assistant.records import NOT_FOUND, answer_to_dict

STORIES = [
    {"id": "fire-a", "title": "Wildfire destroys homes near Ridgeview", "publisher": "Valley Herald", "published_at": "2016-08-02",
     "body": "The wildfire near Ridgeview destroyed 120 homes before crews contained it on Monday, the county fire chief said. "
             "Evacuation orders were lifted for most residents on Tuesday."},
    {"id": "fire-c", "title": "Ridgeview fire crews honoured", "publisher": "Mountain Daily", "published_at": "2016-08-09",
     "body": "The Ridgeview wildfire destroyed homes across the valley, the town council said on Friday as it honoured the crews. "
             "The council thanked the firefighters for their work during the long Ridgeview fire."},
    {"id": "school", "title": "Ridgeview school board names new superintendent", "publisher": "Mountain Daily",
     "published_at": "2016-08-05",
     "body": "The Ridgeview school board named Maria Okafor as superintendent on Thursday. "
             "Okafor previously led the district's largest high school for six years."},
]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Newsdesk:
    return desk_of(tmp_path_factory.mktemp("trust"), STORIES, embedder)


def test_a_story_that_does_not_carry_the_asked_fact_is_never_cited(desk: Newsdesk) -> None:
    answer = desk.ask("How many homes did the Ridgeview wildfire destroy?")
    assert answer.outcome == "answered" and not answer.abstained
    assert_quotes_verify(answer, desk.index)
    assert {s.article_id for s in answer.sources} == {"fire-a"}  # the crews story is about the fire but gives no count
    assert all(q.article_id == "fire-a" for q in answer.quotes)
    assert "fire-c" in {s.article_id for s in answer.related}  # listed to read, not cited
    assert not {s.article_id for s in answer.related} & {s.article_id for s in answer.sources}


def test_the_direct_answer_leads_and_lies_inside_the_verified_lead_quote(desk: Newsdesk) -> None:
    answer = desk.ask("Whom did the Ridgeview school board name as superintendent?")
    assert answer.direct is not None and answer.direct.text == "Maria Okafor"
    lead = answer.quotes[0]
    article = desk.index.articles[lead.article_id]
    assert article.body[answer.direct.start : answer.direct.end] == answer.direct.text
    assert lead.start <= answer.direct.start < answer.direct.end <= lead.end
    assert answer.text.startswith("**Maria Okafor** — according to Mountain Daily (2016-08-05): “")
    count = desk.ask("How many homes did the Ridgeview wildfire destroy?")
    assert count.direct is not None and count.direct.text == "120"


def test_a_span_already_in_the_question_is_not_the_answer(desk: Newsdesk) -> None:
    answer = desk.ask("When did the Ridgeview school board name Maria Okafor superintendent?")
    assert answer.direct is not None and answer.direct.text == "Thursday"  # not "Maria Okafor", which was asked about


def test_three_outcomes_are_said_plainly_and_carried_by_json(desk: Newsdesk) -> None:
    answered = desk.ask("How many homes did the Ridgeview wildfire destroy?")
    related = desk.ask("How much did the Ridgeview wildfire cost the insurers?")  # the fire is covered, the cost is not
    nothing = desk.ask("Which team won the Champions League final in Milan?")
    assert (answered.outcome, related.outcome, nothing.outcome) == ("answered", "not_answered", "nothing_found")
    for a in (related, nothing):
        assert a.abstained and a.text.startswith(NOT_FOUND) and not a.quotes and not a.sources
    assert related.nearest and any(s.article_id == "fire-a" for s in related.nearest)
    assert answer_to_dict(related)["outcome"] == "not_answered"
    assert answer_to_dict(answered)["direct"]["text"] == "120"  # type: ignore[index]


@pytest.fixture(scope="module")
def two_publishers(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Newsdesk:
    root = tmp_path_factory.mktemp("publishers")
    stories = [
        {"id": "herald", "title": "Harbour bridge to close for repairs", "publisher": "Valley Herald", "published_at": "2016-05-02",
         "body": "The harbour bridge will close for six weeks of repairs starting in June, the transport office said. "
                 "Repairs will cost $12 million, officials said."},
        {"id": "gazette", "title": "Council debates the harbour", "publisher": "Coastal Gazette", "published_at": "2016-05-03",
         "body": "The council debated plans for the harbour on Monday. Members disagreed about parking near the marina."},
    ]
    return desk_of(root, stories, embedder)


def test_a_publisher_named_in_the_question_constrains_the_answer(two_publishers: Newsdesk) -> None:
    own = two_publishers.ask("According to the Valley Herald, how much will the harbour bridge repairs cost?")
    assert own.outcome == "answered" and {s.publisher for s in own.sources} == {"Valley Herald"}
    assert any("Valley Herald, named in the question" in n for n in own.notes)
    other = two_publishers.ask("What did the Coastal Gazette report about the cost of the harbour bridge repairs?")
    assert other.abstained and not other.quotes and not other.sources  # never the Herald's quote as the Gazette's answer
    assert "Coastal Gazette has no article in the archive that answers this." in other.text
    assert "Valley Herald reported on it." in other.text


# ---- near-miss and answerable pairs over the real Horne archive ---------------------------------

def _pairs() -> list[tuple[dict[str, object], dict[str, object]]]:
    rows = [json.loads(line) for line in (REPO / "evals" / "nearmiss_horne.jsonl").read_text(encoding="utf-8").splitlines()]
    by_id = {r["id"]: r for r in rows}
    pairs = []
    for r in rows:
        other = by_id.get(r.get("pair", ""))
        if r["type"] == "null" and other is not None and other["type"] != "null" and half_of(str(r["id"])) == "B":
            pairs.append((other, r))
    return pairs


def test_near_miss_pairs_on_the_horne_archive(horne_settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    """Held-out half of the look-alike pairs: the answerable one answered, its near-miss sibling not."""
    desk = Newsdesk(horne_settings, embedder)
    pairs = _pairs()
    both_right = 0
    answered_answerable = 0
    for good, null in pairs:
        a, b = desk.ask(str(good["question"])), desk.ask(str(null["question"]))
        assert_quotes_verify(a, desk.index)
        assert b.outcome in ("not_answered", "nothing_found") or not b.abstained
        answered_answerable += not a.abstained
        both_right += (not a.abstained) and b.abstained
    assert len(pairs) >= 15
    assert answered_answerable / len(pairs) >= 0.8
    assert both_right / len(pairs) >= 0.2  # measured 8 of 31 here; the landed code abstained on 1 of these 31 nulls at most


# ---- the learned part ------------------------------------------------------------------------------

def _trainer():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("train_answerability", REPO / "evals" / "train_answerability.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_answerability"] = module
    spec.loader.exec_module(module)
    return module


def test_the_shipped_weights_are_rebuilt_exactly_from_the_committed_table(tmp_path: Path) -> None:
    trainer = _trainer()
    rows = trainer.read_table(trainer.TABLE)
    assert {r.half for r in rows} == {"A", "B"}
    out = tmp_path / "weights.json"
    trainer.main(["--out", str(out), "--plot", ""])
    assert json.loads(out.read_text()) == json.loads((REPO / "assistant" / "answerability.json").read_text())
    model = shipped_model()
    assert model.features and set(model.features) <= set(FEATURES) and 0.0 < model.threshold < 1.0


def test_the_feature_table_matches_what_the_code_computes(horne_settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    """The committed table is today's signals: recompute a sample of Horne questions and compare."""
    trainer = _trainer()
    table = {r.id: r for r in trainer.read_table(trainer.TABLE)}
    desk = Newsdesk(horne_settings, embedder)
    questions = [json.loads(line) for line in (REPO / "evals" / "horne_dev.jsonl").read_text(encoding="utf-8").splitlines()][:12]
    for q in questions:
        r = desk.search(q["question"], q.get("history", [])).retrieval
        values = signals(r.query, r.evidence, r.hits, r.confidence, desk.index.idf).values
        assert np.allclose(values, table[q["id"]].values, atol=2e-3), q["id"]


def test_training_end_to_end_on_a_tiny_fixture(desk: Newsdesk) -> None:
    """Questions → search → signals → fit → a model that ranks answerable above unanswerable."""
    answerable = [
        "How many homes did the Ridgeview wildfire destroy?",
        "Whom did the Ridgeview school board name as superintendent?",
        "When were the Ridgeview evacuation orders lifted?",
        "When were the Ridgeview firefighters honoured?",
    ]
    unanswerable = [
        "How much did the Ridgeview wildfire cost the insurers?",
        "Whom did the Ridgeview school board name as treasurer?",
        "How many firefighters were injured in the Ridgeview wildfire?",
        "Why did the Ridgeview superintendent resign?",
    ]
    rows, labels = [], []
    for label, questions in ((1.0, answerable), (0.0, unanswerable)):
        for question in questions:
            r = desk.search(question).retrieval
            rows.append(signals(r.query, r.evidence, r.hits, r.confidence, desk.index.idf).values)
            labels.append(label)
    model = fit(np.array(rows), np.array(labels), FEATURES, l2=1.0)
    scores = [model.probability(v) for v in rows]
    assert min(scores[:4]) > max(scores[4:])
    again = Model.from_json(json.loads(json.dumps(model.to_json())))
    assert abs(again.probability(rows[0]) - model.probability(rows[0])) < 1e-4
