"""Evidence → Answer: the one place that decides every answer.

``answer`` first judges whether the evidence answers the question (``judge``), which gives one
of three outcomes:

- **answered** — then the LLM writer (when one is given; its draft is checked by ``generation``)
  or the offline composer (``composer``) writes the answer from verified quotes that carry what
  is asked; when the writer fails or is too slow, the offline answer is shown with a note;
- **not answered** — the archive has related passages, but none says what is asked: the answer
  says so, says why, and lists the closest articles (an abstention);
- **nothing found** — nothing relevant: the answer says so and states what was searched.

A question that names a publisher ("what did The Washington Post report …") is searched in that
publisher's articles only (see ``chat.Newsdesk.search``); when they do not answer it, the answer
says so and names who did report on it, never quoting another publisher as the answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from .answerability import shipped_model, signals
from .composer import compose, direct_answer, lead_answer, near_best, related_stories
from .config import Settings
from .generation import (
    MAX_QUOTES,
    MAX_SOURCES,
    Draft,
    Writer,
    describe_failure,
    draft_notes,
    select_passages,
    write_draft,
)
from .question import join_names, speaker, speaks
from .records import NOT_FOUND, Answer, Outcome, Quote, Source, source_for
from .retrieval import Retrieval
from .spans import asked_kind
from .store import Index

log = logging.getLogger(__name__)

# The kinds of answer a question may ask for that a passage must state for the question to be answered:
# a question asking who, which, where, when, how many, how much or what share is answered only by a
# passage near the best that holds such an answer not already in the question — the direct answer the
# reply leads with. A reason is left out: a "why" is often given without a connective a rule can find
# (chosen on half A of the dev sets, where requiring one lost more answerable questions than it gained nulls).
NAMED_ANSWERS: dict[str, str] = {
    "person": "the person", "organisation": "the organisation", "place": "the place", "date": "the date",
    "number": "the number", "money": "the amount", "share": "the share",
    "duration": "the length of time", "name": "the name",
}
MISSING_NAMES_LIMIT = 2  # this many names no top story mentions and the question is about something else
NEAREST_SHOWN = 3
SPEAKER_REACH = 300  # characters before a sentence where the speaker it quotes may be named


@dataclass(frozen=True)
class Judgement:
    """Whether the evidence answers the question, and if not, why not (a sentence, possibly empty)."""

    outcome: Outcome
    reason: str = ""
    score: float | None = None  # the answerability model's probability, when it was asked


def judge(question: str, retrieval: Retrieval, settings: Settings, idf: Callable[[str], float] | None = None) -> Judgement:
    """Nothing found when the best evidence is weak. Not answered when the question names several
    things no top story mentions, when it asks for a kind of figure none of the best sentences
    states, when the answerability model finds the evidence does not answer it, or when it asks
    for a kind of answer (``NAMED_ANSWERS``) that no sentence near the best states."""
    if not retrieval.evidence or retrieval.confidence < settings.min_evidence_score:
        return Judgement("nothing_found")
    # judged against what was searched: a follow-up together with the turns it leans on
    found = signals(retrieval.query or question, retrieval.evidence, retrieval.hits, retrieval.confidence, idf)
    model = shipped_model()
    score = model.probability(found.values)
    if len(found.unnamed) >= MISSING_NAMES_LIMIT:
        return Judgement("not_answered", f"None of the articles found mentions {join_names(list(found.unnamed))}.", score)
    if found.figure is not None:
        return Judgement("not_answered", f"The closest passages give no {found.figure} for it.", score)
    if score < model.threshold:
        return Judgement("not_answered", _why_not(found.kind, found.uncovered), score)
    said_by = speaker(question)
    if said_by is not None and not _gives_words_of(said_by, retrieval):
        return Judgement("not_answered", f"None of the closest passages gives what {said_by} said.", score)
    asked = asked_kind(question)
    if asked in NAMED_ANSWERS and not retrieval.parts and lead_answer(question, retrieval) is None:
        return Judgement("not_answered", f"None of the closest passages gives {NAMED_ANSWERS[asked]} it asks for.", score)
    return Judgement("answered", "", score)


def _gives_words_of(name: str, retrieval: Retrieval) -> bool:
    """Does a sentence near the best report words of ``name`` (named there or just before it)?"""
    bodies = {h.article.id: h.article.body for h in retrieval.hits}
    for ev in near_best(retrieval):
        body = bodies.get(ev.article_id, "")
        if speaks(name, ev.text, body[max(0, ev.start - SPEAKER_REACH):ev.start]):
            return True
    return False


def _why_not(kind: str | None, uncovered: tuple[str, ...]) -> str:
    if uncovered:
        return f"None of the closest passages states it for {join_names(list(uncovered))}."
    if kind == "reason":
        return "The closest passages give no reason for it."
    if kind is not None:
        return "The closest passages do not say it."
    return "The closest passages do not answer it."


def abstention_reason(question: str, retrieval: Retrieval, settings: Settings) -> str | None:
    """None when the evidence answers the question; else why not (empty when simply too weak)."""
    judged = judge(question, retrieval, settings)
    return None if judged.outcome == "answered" else judged.reason


def answerable(question: str, retrieval: Retrieval, settings: Settings) -> bool:
    return abstention_reason(question, retrieval, settings) is None


def answer(
    question: str,
    retrieval: Retrieval,
    index: Index,
    settings: Settings,
    *,
    writer: Writer | None = None,
    on_text: Callable[[str], None] | None = None,
    elsewhere: Retrieval | None = None,
) -> Answer:
    """The answer to ``question`` from ``retrieval`` — every front end's answer is decided here.

    With a ``writer``, the LLM writes from the best passages and its checked draft is shown
    (``on_text`` receives the checked text as it streams). ``elsewhere`` is the same search over
    the whole archive when ``retrieval`` was restricted to a publisher the question names."""
    judged = judge(question, retrieval, settings, index.idf)
    if judged.outcome != "answered":
        return abstain(question, index, retrieval, judged, elsewhere=elsewhere, settings=settings)
    if writer is None:
        return _offline(question, index, retrieval, settings, judged)
    passages = select_passages(retrieval, MAX_SOURCES)
    if not passages:
        return abstain(question, index, retrieval, Judgement("nothing_found"))
    started = time.perf_counter()
    try:
        draft, timings = write_draft(
            question, passages, writer,
            max_quotes=min(MAX_QUOTES, settings.evidence_sentences), timeout=settings.llm_timeout, on_text=on_text,
        )
    except Exception as exc:  # noqa: BLE001 - any endpoint failure shows the offline answer
        log.warning("LLM writer failed, showing the offline answer: %r", exc)
        offline = _offline(question, index, retrieval, settings, judged)
        note = f"The LLM writer {describe_failure(exc, settings.llm_timeout)}; the offline answer is shown."
        seconds = round(time.perf_counter() - started, 4)
        return replace(offline, notes=(*offline.notes, note), timings={**offline.timings, "llm": seconds})
    final = replace(_from_draft(question, index, retrieval, draft, judged), timings=timings)
    if on_text is not None and final.direct is not None:
        on_text(final.text)  # the direct answer leads the shown text too
    return final


def _offline(question: str, index: Index, retrieval: Retrieval, settings: Settings, judged: Judgement) -> Answer:
    made = compose(question, index, retrieval, settings.evidence_sentences)
    if not made.quotes:
        return replace(abstain(question, index, retrieval, Judgement("not_answered", "", judged.score)), notes=made.notes)
    return answered(question, index, retrieval, made.text, made.quotes, made.sources, made.notes,
                    direct=made.direct, related=made.related, score=judged.score)


def _from_draft(question: str, index: Index, retrieval: Retrieval, draft: Draft, judged: Judgement) -> Answer:
    """The writer's checked draft as the answer; its "not in the passages" is the not-answered outcome."""
    if draft.quotes:
        direct = direct_answer(question, draft.quotes[0])
        text = f"**{direct.text}** — {draft.text}" if direct is not None else draft.text
        cited = {s.article_id for s in draft.sources}
        return answered(question, index, retrieval, text, draft.quotes, draft.sources, draft_notes(draft),
                        direct=direct, related=related_stories(retrieval.hits, cited), score=judged.score)
    reason = (
        "The LLM writer found no answer in the passages."
        if draft.said_not_found
        else "No quote in the LLM writer's answer could be verified."
    )
    gave_up = abstain(question, index, retrieval, Judgement("not_answered", "", judged.score))
    return replace(gave_up, notes=(*draft_notes(draft), reason))


def coverage_statement(index: Index, retrieval: Retrieval) -> str:
    m = index.manifest
    scope = "the whole archive" if retrieval.filters.empty else "the filtered archive"
    publishers = m.publishers
    who = (
        f"{len(publishers)} publishers ({', '.join(publishers[:5])}{', …' if len(publishers) > 5 else ''})"
        if publishers
        else "no named publishers"
    )
    dated = f"dated {m.date_min} to {m.date_max}" if m.date_min else "none of them dated"
    undated = f", {m.undated} undated" if m.date_min and m.undated else ""
    return f"Searched {retrieval.in_scope} of {m.articles} articles in {scope}: {who}; {dated}{undated}."


def answered(
    question: str,
    index: Index,
    retrieval: Retrieval,
    text: str,
    quotes: tuple[Quote, ...],
    sources: tuple[Source, ...],
    notes: tuple[str, ...],
    *,
    direct: Quote | None = None,
    related: tuple[Source, ...] = (),
    score: float | None = None,
) -> Answer:
    """An answer built from verified quotes — by the offline composer or the LLM writer."""
    return Answer(
        question=question,
        text=text,
        quotes=quotes,
        sources=sources,
        abstained=False,
        searched_query=retrieval.query,
        filters=retrieval.filters,
        coverage=coverage_statement(index, retrieval),
        notes=notes,
        retrieved=tuple(h.article.id for h in retrieval.hits),
        retrieved_chunks=retrieval.chunk_ids,
        outcome="answered",
        direct=direct,
        related=related,
        answerability=score,
    )


def abstain(
    question: str,
    index: Index,
    retrieval: Retrieval,
    judged: Judgement = Judgement("nothing_found"),
    *,
    elsewhere: Retrieval | None = None,
    settings: Settings | None = None,
) -> Answer:
    """The archive does not answer: say so and why, list the nearest articles, state what was searched."""
    nearest = tuple(
        source_for(i, h.article, h.also_published_by) for i, h in enumerate(retrieval.hits[:NEAREST_SHOWN], start=1)
    )
    outcome, reason = judged.outcome, judged.reason
    if elsewhere is not None and settings is not None and retrieval.filters.publishers:
        said, reported = _reported_elsewhere(question, retrieval, elsewhere, settings, index.idf)
        outcome = "not_answered" if reported else outcome  # the archive has it, from another publisher
        reason = " ".join(filter(None, (reason, said)))
    elif outcome == "nothing_found":
        reason = reason or "Nothing in the archive comes close to it."
    coverage = coverage_statement(index, retrieval)
    text = " ".join(filter(None, (NOT_FOUND, reason, "The nearest articles found are listed below." if nearest else "")))
    text += "\n\n" + coverage
    return Answer(
        question=question,
        text=text,
        quotes=(),
        sources=(),
        abstained=True,
        searched_query=retrieval.query,
        filters=retrieval.filters,
        nearest=nearest,
        coverage=coverage,
        retrieved=tuple(h.article.id for h in retrieval.hits),
        retrieved_chunks=retrieval.chunk_ids,
        outcome=outcome,
        answerability=judged.score,
    )


def _reported_elsewhere(
    question: str, retrieval: Retrieval, elsewhere: Retrieval, settings: Settings, idf: Callable[[str], float]
) -> tuple[str, bool]:
    """("The Washington Post has no article … ; Reuters reported on it.", whether another publisher did)."""
    named = " or ".join(retrieval.filters.publishers)
    said = f"{named} has no article in the archive that answers this."
    if judge(question, elsewhere, settings, idf).outcome != "answered":
        return said, False
    wanted = set(retrieval.filters.publishers)
    publisher = {h.article.id: h.article.publisher for h in elsewhere.hits}
    found = [publisher.get(ev.article_id) or "" for ev in elsewhere.evidence[:NEAREST_SHOWN]]
    others = list(dict.fromkeys(p for p in found if p and p not in wanted))
    if not others:
        return said, False
    return f"{said} {' and '.join(others)} reported on it.", True
