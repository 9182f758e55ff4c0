"""What the LLM writer may show: quotes that stand on their own (five words or a whole sentence, on
word boundaries, ellipsis parts close together), sentences whose quotes carry what they say, the
offline answer when nothing does, and citation buttons only outside quoted text."""

from __future__ import annotations

import re

import pytest
from fakes import ScriptedWriter
from helpers import assert_quotes_verify, desk_of

from assistant.chat import Newsdesk
from assistant.embedding import SentenceTransformerEmbedder
from assistant.generation import Passage, check_output
from assistant.quotes import support
from assistant.records import Answer, Article, Filters, Quote, Source
from assistant.ui.html import render_answer

BODY = (
    "Senator Jane Holt denied any wrongdoing on Monday and said she would not resign before the election. "
    "Her office released a statement calling the ethics complaint politically motivated. "
    "The ethics committee will meet on Tuesday to decide whether to open an inquiry. "
    "Holt has served in the Senate since 2004. "
    "Several colleagues said they would wait for the committee's findings. "
    "Nobody resigned. "
    "The complaint was filed by a watchdog group in August."
)
HOLT = Article("holt", "Senator denies wrongdoing", BODY, "Capitol Ledger", "Ann Reyes", None, 2016, None, "f", 1)
OTHER_BODY = "The city council approved a new tram line linking the harbour to the university on Tuesday after years of debate."
TRAM = Article("tram", "Tram line approved", OTHER_BODY, "Harbour Daily", None, None, 2016, None, "g", 1)
PASSAGES = [Passage(1, HOLT, BODY, "Capitol Ledger", "2016", "T"), Passage(2, TRAM, OTHER_BODY, "Harbour Daily", "2016", "T")]
QUESTION = "Did Senator Holt resign?"

FABRICATED = "The article confirms the “Senator” [1] admitted “wrongdoing” [1] and will “resign” [1]."
GOOD = "According to the Capitol Ledger, “Senator Jane Holt denied any wrongdoing on Monday” [1]."


def shown(output: str) -> str:
    return check_output(output, PASSAGES, QUESTION).text


# ---- quotes that cannot stand on their own ---------------------------------------------------------


def test_the_fabricated_example_never_reaches_the_reader() -> None:
    draft = check_output(FABRICATED, PASSAGES, QUESTION)
    assert draft.text == "" and draft.quotes == () and draft.sources == ()
    assert draft.removed == ("shorter than five words",) * 3
    assert draft.nothing_carried  # the answer falls back to the offline one (see the end-to-end test)


@pytest.mark.parametrize("output", [
    "The senator “ator Jane Holt denied any wrongdoing” [1] yesterday.",  # five words, but starting inside a word
    "She would not “resig” [1] at all.",  # part of a word
    "Holt “a” [1] statement.",  # one letter, found inside many words
    "Holt “denied any wrongdoing” [1] and “would not resign” [1].",  # fewer than five words, not whole sentences
    "“Senator Jane Holt denied any wrongdoing … filed by a watchdog group in August” [1].",  # parts six sentences apart
    "“Senator Jane Holt denied any wrongdoing … politically motivated” [1].",  # an ellipsis part of two words
])
def test_quotes_that_do_not_stand_on_their_own_are_removed(output: str) -> None:
    draft = check_output(output, PASSAGES, QUESTION)
    assert draft.quotes == () and draft.text == "" and draft.removed and draft.nothing_carried


def test_quotes_that_stand_on_their_own_are_kept() -> None:
    near = "“Senator Jane Holt denied any wrongdoing … calling the ethics complaint politically motivated” [1]."
    assert shown(near) == near  # the next sentence: within a few sentences
    whole = "The article reports: “Nobody resigned.” [1]"
    assert [q.text for q in check_output(whole, PASSAGES, QUESTION).quotes] == ["Nobody resigned."]  # a whole sentence


# ---- prose that says more than its quotes ----------------------------------------------------------


@pytest.mark.parametrize("output", [
    "The senator admitted wrongdoing and will resign, the article confirms: “The ethics committee will meet on Tuesday” [1].",
    "The senator resigned: “The ethics committee will meet on Tuesday” [1].",  # two words of six are the model's
    "The article confirms the “Senator Jane Holt denied any wrongdoing” [1] admitted “wrongdoing” [1] and will “resign” [1].",
])
def test_prose_claims_that_the_quotes_do_not_carry_are_not_shown(output: str) -> None:
    draft = check_output(output, PASSAGES, QUESTION)
    assert draft.text == "" and draft.quotes == () and draft.unsupported_sentences == 1 and draft.nothing_carried
    for word in ("admitted", "resigned", "confirms"):
        assert word not in draft.text


def test_a_good_answer_is_shown_unchanged() -> None:
    good = f"{GOOD} Holt said “she would not resign before the election” [1]."
    draft = check_output(good, PASSAGES, QUESTION)
    assert draft.text == good and draft.removed == () and draft.dropped_sentences == 0
    assert [q.text for q in draft.quotes] == ["Senator Jane Holt denied any wrongdoing on Monday", "she would not resign before the election"]
    assert all(BODY[q.start : q.end] == q.text for q in draft.quotes)


def test_a_rejected_sentence_leaves_no_citation_behind() -> None:
    """The tram passage is cited only by a sentence that is not shown: it is no source, and the
    shown sentence's passage is numbered 1."""
    output = f"The council secretly cancelled the tram and resigned, “The city council approved a new tram line” [2]. {GOOD}"
    draft = check_output(output, PASSAGES, QUESTION)
    assert draft.text == GOOD and [s.article_id for s in draft.sources] == ["holt"]
    assert {q.source for q in draft.quotes} == {1} and draft.unsupported_sentences == 1
    assert "[2]" not in draft.text


def test_support_counts_the_prose_words_nothing_quoted_holds() -> None:
    context = "the United States and its allies have charged Russia with responsibility for last week’s attack on the aid convoy"
    quoted = ["last week’s attack on the aid convoy"]
    paraphrase = support("The US blamed Russia for , officials said", quoted, context)
    assert paraphrase.unsupported == ("blamed",) and paraphrase.carried  # one paraphrased verb among eight content words
    assert support("The UN reported", ["more than 250,000 civilians are trapped"], "where the United Nations has said it").carried
    assert support("The article says", ["The ethics committee will meet on Tuesday"], "").unsupported == ()
    negated = support("Russia did not carry out", quoted, context)  # a negation is a claim of its own
    assert negated.unsupported == ("not", "carry") and not negated.carried
    assert not support("The senator resigned", ["The ethics committee will meet on Tuesday"], BODY.split(". ")[2]).carried
    short = support("Holt resigned", ["Holt has served"], "Holt has served in the Senate since 2004.")
    assert short.unsupported == ("resigned",) and short.content_words == 4 and not short.carried  # a quarter: too large a share


# ---- end to end: nothing carried → the offline answer --------------------------------------------

STORIES = [
    {"id": "holt", "title": "Senator denies wrongdoing", "publisher": "Capitol Ledger", "published_at": "2016-10-03", "body": BODY},
    {"id": "tram", "title": "Tram line approved", "publisher": "Harbour Daily", "published_at": "2016-10-04", "body": OTHER_BODY},
]
ASKED = "When will the ethics committee meet to decide on an inquiry into Senator Holt?"


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Newsdesk:
    return desk_of(tmp_path_factory.mktemp("llm-checks"), STORIES, embedder)


def ask_with(desk: Newsdesk, embedder: SentenceTransformerEmbedder, output: str) -> Answer:
    return Newsdesk(desk.settings, embedder, writer=ScriptedWriter(output)).ask(ASKED)


def test_nothing_carried_falls_back_to_the_offline_answer(desk: Newsdesk, embedder: SentenceTransformerEmbedder) -> None:
    offline = desk.ask(ASKED)
    assert offline.outcome == "answered" and offline.quotes
    for output in (FABRICATED, "The senator resigned: “The ethics committee will meet on Tuesday” [1]."):
        seen: list[str] = []
        answer = Newsdesk(desk.settings, embedder, writer=ScriptedWriter(output)).ask(ASKED, on_text=seen.append)
        assert answer.text == offline.text and answer.quotes == offline.quotes and answer.outcome == "answered"
        assert answer.notes[-1] == "The LLM writer wrote no sentence that its quotes support; the offline answer is shown."
        assert not any(word in answer.text for word in ("admitted", "resigned", "confirms"))
        assert_quotes_verify(answer, desk.index)


def test_a_good_llm_answer_is_shown_end_to_end(desk: Newsdesk, embedder: SentenceTransformerEmbedder) -> None:
    said = "The ethics committee will meet on Tuesday to decide whether to open an inquiry"
    answer = ask_with(desk, embedder, f"According to the Capitol Ledger, “{said}” [1].")
    assert answer.notes == () and [q.text for q in answer.quotes] == [said]
    assert answer.text.endswith(f"According to the Capitol Ledger, “{said}” [1].")
    assert_quotes_verify(answer, desk.index)


# ---- the chat: citations only outside quotes, the writer's words apart from the quotes --------------


def test_a_marker_inside_a_quote_is_not_a_citation_button() -> None:
    body = "Officials said the vote [2] passed on Tuesday by a wide margin, as expected."
    said = "the vote [2] passed on Tuesday by a wide margin"  # article text that happens to hold a marker
    quote = Quote("a", body.index(said), body.index(said) + len(said), said, 1)
    other = Quote("b", 0, 35, "Critics said it would cost billions", 2)
    sources = (Source(1, "a", "Vote passes", "P", None, None, None, "f"), Source(2, "b", "Critics", "Q", None, None, None, "g"))
    text = f"According to P, “{quote.text}” [1]. Q adds: “{other.text}” [2]."
    answer = Answer("Q?", text, (quote, other), sources, False, "Q?", Filters())
    html = render_answer(answer)
    buttons = re.findall(r'<button type="button" class="nd-cite"[^>]*data-n="(\d+)"', html)
    assert buttons == ["1", "2"]  # one per marker outside the quotes; none for the "[2]" inside the first
    assert f'<span class="nd-said">“{quote.text}”</span>' in html
    assert f'<span class="nd-said">“{other.text}”</span>' in html
    assert '<span class="nd-prose">According to P, </span>' in html  # the connective wording, set apart


def test_the_direct_answer_leads_and_the_connective_words_are_set_apart() -> None:
    q = Quote("a", 0, 46, "The bridge reopened on Monday after two years", 1)
    answer = Answer("When?", f"**Monday** — according to P: “{q.text}” [1]", (q,), (Source(1, "a", "T", "P", None, None, None, "f"),),
                    False, "When?", Filters())
    html = render_answer(answer)
    assert '<p><strong class="nd-direct">Monday</strong><span class="nd-prose"> — according to P: </span>' in html
