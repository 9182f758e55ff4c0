"""Evidence → Answer: the one place that decides every answer.

``answer`` runs the abstention rule, then either the LLM writer (when one is given; its draft is
checked by ``generation``) or the offline composer, which builds the answer only from verified
quotes with connective text saying who reported what. When the writer fails or is too slow, the
offline answer is shown with a note saying so.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import replace

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
from .lexical import terms
from .question import join_names, missing_names, wanted_figure
from .quotes import verify
from .records import NOT_FOUND, Answer, Evidence, Hit, Quote, Source, source_for
from .retrieval import Retrieval
from .store import Index

log = logging.getLogger(__name__)

TYPE_CHECK_SENTENCES = 3
NAME_CHECK_STORIES = 3  # the stories whose articles must mention the question's names
MISSING_NAMES_LIMIT = 2  # this many unmentioned names and the question is about something else

MAX_QUOTES_PER_STORY = 2
NEAREST_SHOWN = 3

def attribution(source: Source) -> str:
    """"The Washington Post (2016)" — who said it and when, as the answer's connective text."""
    who = source.publisher or (f"“{source.title}”" if source.title else "an archived article")
    return f"{who} ({source.published})" if source.published else who


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


SUPPORT_RATIO = 0.8  # a supporting quote must score at least this share of the lead quote


def select_evidence(retrieval: Retrieval, limit: int, floor: float = 0.0) -> list[Evidence]:
    """The lead sentence and supporting ones scoring near it: at most two per story, no repeats."""
    chosen: list[Evidence] = []
    per_story: dict[str, int] = {}
    seen_text: set[str] = set()
    if not retrieval.evidence:
        return chosen
    floor = max(floor, SUPPORT_RATIO * retrieval.evidence[0].score)
    for ev in retrieval.evidence:
        if chosen and ev.score < floor:
            break
        key = " ".join(ev.text.lower().split())
        if key in seen_text or per_story.get(ev.article_id, 0) >= MAX_QUOTES_PER_STORY:
            continue
        seen_text.add(key)
        per_story[ev.article_id] = per_story.get(ev.article_id, 0) + 1
        chosen.append(ev)
        if len(chosen) >= limit:
            break
    return chosen


def answerable(question: str, retrieval: Retrieval, settings: Settings) -> bool:
    return abstention_reason(question, retrieval, settings) is None


def abstention_reason(question: str, retrieval: Retrieval, settings: Settings) -> str | None:
    """None when the evidence can answer; else why not (an empty string when the evidence is simply
    weak). The best sentence must score above the calibrated threshold; a question asking for a
    number, a share (a percentage or fraction), a price (a currency amount) or a date needs one in
    its best sentences; and a question naming several people, places or organisations that none of
    the stories found mentions is about something the archive does not cover."""
    if not retrieval.evidence or retrieval.confidence < settings.min_evidence_score:
        return ""
    unnamed = missing_names(question, retrieval.hits[:NAME_CHECK_STORIES])
    if len(unnamed) >= MISSING_NAMES_LIMIT:
        return f"None of the articles found mentions {join_names(unnamed)}."
    wanted = wanted_figure(question)
    if wanted is not None and not any(wanted[0].search(ev.text) for ev in retrieval.evidence[:TYPE_CHECK_SENTENCES]):
        return f"The closest passages give no {wanted[1]} for it."
    return None


def answer(
    question: str,
    retrieval: Retrieval,
    index: Index,
    settings: Settings,
    *,
    writer: Writer | None = None,
    on_text: Callable[[str], None] | None = None,
) -> Answer:
    """The answer to ``question`` from ``retrieval`` — every front end's answer is decided here.

    Abstains when the evidence cannot answer (``abstention_reason``). With a ``writer``, the LLM
    writes from the best passages and its checked draft is shown (``on_text`` receives the
    checked text as it streams); a writer that fails or times out gives the offline answer with a
    note. Without one, the offline composer answers."""
    reason = abstention_reason(question, retrieval, settings)
    if writer is None:
        return _compose(question, index, retrieval, settings) if reason is None else abstain(question, index, retrieval, reason)
    passages = select_passages(retrieval, MAX_SOURCES)
    if not passages or reason is not None:
        return abstain(question, index, retrieval)
    started = time.perf_counter()
    try:
        draft, timings = write_draft(
            question, passages, writer,
            max_quotes=min(MAX_QUOTES, settings.evidence_sentences), timeout=settings.llm_timeout, on_text=on_text,
        )
    except Exception as exc:  # noqa: BLE001 - any endpoint failure shows the offline answer
        return _offline_fallback(question, index, retrieval, settings, exc, time.perf_counter() - started)
    return replace(_from_draft(question, index, retrieval, draft), timings=timings)


def _from_draft(question: str, index: Index, retrieval: Retrieval, draft: Draft) -> Answer:
    if draft.quotes:
        return answered(question, index, retrieval, draft.text, draft.quotes, draft.sources, draft_notes(draft))
    reason = (
        "The LLM writer found no answer in the passages."
        if draft.said_not_found
        else "No quote in the LLM writer's answer could be verified."
    )
    gave_up = abstain(question, index, retrieval)
    return replace(gave_up, notes=(*draft_notes(draft), reason))


def _offline_fallback(
    question: str, index: Index, retrieval: Retrieval, settings: Settings, exc: Exception, seconds: float
) -> Answer:
    log.warning("LLM writer failed, showing the offline answer: %r", exc)
    offline = _compose(question, index, retrieval, settings)
    note = f"The LLM writer {describe_failure(exc, settings.llm_timeout)}; the offline answer is shown."
    return replace(offline, notes=(*offline.notes, note), timings={**offline.timings, "llm": round(seconds, 4)})


def _compose(question: str, index: Index, retrieval: Retrieval, settings: Settings) -> Answer:
    """The offline answer: the best sentence first, then supporting quotes, each cited."""
    sources: dict[str, Source] = {}
    quotes: list[Quote] = []
    rejected = 0
    for ev in select_evidence(retrieval, settings.evidence_sentences, settings.min_evidence_score):
        article = index.articles[ev.article_id]
        number = sources[ev.article_id].number if ev.article_id in sources else len(sources) + 1
        check = verify(article, ev.text, ev.start, ev.end, source=number)
        if not check.ok:
            rejected += 1
            continue
        sources.setdefault(ev.article_id, source_for(number, article, _also(retrieval.hits, ev.article_id)))
        quotes.extend(check.parts)
    if not quotes:
        return abstain(question, index, retrieval)
    quotes = quotes[:1] + sorted(quotes[1:], key=lambda q: (q.source, q.start))  # lead, then grouped by story
    notes = [f"{rejected} quote(s) failed verification and were not shown."] if rejected else []
    text = render_text(quotes, sources)
    conflict = disagreement(question, quotes, sources)
    if conflict:
        text += "\n\n" + conflict
        notes.append("The sources give different figures; all are shown with their dates and publishers.")
    return answered(question, index, retrieval, text, tuple(quotes), tuple(sources.values()), tuple(notes))


def answered(
    question: str,
    index: Index,
    retrieval: Retrieval,
    text: str,
    quotes: tuple[Quote, ...],
    sources: tuple[Source, ...],
    notes: tuple[str, ...],
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
    )


_FIGURE = re.compile(r"(?<![\w.])\$?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|million|billion|thousand))?")


def figures(text: str) -> set[str]:
    """Numbers as stated ("250,000", "$4 million", "12 percent"), normalised; years left out."""
    found = set()
    for m in _FIGURE.finditer(text):
        value = m.group().replace(",", "").replace(" ", "").replace("percent", "%")
        if not re.fullmatch(r"(19|20)\d\d", value):
            found.add(value)
    return found


def disagreement(question: str, quotes: list[Quote], sources: dict[str, Source]) -> str:
    """When quotes from different stories about the question give different figures, say so and
    set them side by side, each with its publisher and date, instead of picking one."""
    topic = set(terms(question))
    by_number = {s.number: s for s in sources.values()}
    stated: dict[int, tuple[set[str], Quote]] = {}
    for q in quotes:
        numbers = figures(q.text)
        if numbers and topic & set(terms(q.text)) and q.source not in stated:
            stated[q.source] = (numbers, q)
    if len(stated) < 2 or len({frozenset(n) for n, _ in stated.values()}) < 2:
        return ""
    parts = [
        f"{attribution(by_number[n])} gives {', '.join(sorted(nums))} [{n}]" for n, (nums, _) in sorted(stated.items())
    ]
    return "The sources disagree: " + "; ".join(parts) + "."


def render_text(quotes: list[Quote], sources: dict[str, Source]) -> str:
    by_number = {s.number: s for s in sources.values()}
    lines: list[str] = []
    said: set[int] = set()
    for q in quotes:
        source = by_number[q.source]
        if not lines:
            lines.append(f"According to {attribution(source)}: “{q.text}” [{q.source}]")
        elif q.source in said:
            lines.append(f"It also reports: “{q.text}” [{q.source}]")
        else:
            lines.append(f"{attribution(source)} reports: “{q.text}” [{q.source}]")
        said.add(q.source)
    return "\n\n".join(lines)


def abstain(question: str, index: Index, retrieval: Retrieval, reason: str = "") -> Answer:
    nearest = tuple(
        source_for(i, h.article, h.also_published_by) for i, h in enumerate(retrieval.hits[:NEAREST_SHOWN], start=1)
    )
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
    )


def _also(hits: tuple[Hit, ...], article_id: str) -> tuple[str, ...]:
    return next((h.also_published_by for h in hits if h.article.id == article_id), ())
