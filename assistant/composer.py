"""The offline composer: an answer made only of verified quotes that carry what is asked.

- **The lead quote** is the best evidence sentence that holds an answer of the kind asked (a name,
  place, date, number, amount, share or reason not already in the question), among the sentences
  scoring near the best; for an open question, the best sentence.
- **Further quotes** only when they add the asked information: the best sentence of a two-part
  question's other part, and statements of the same fact (an answer of the asked kind and as much of
  the question's wording as the lead) from other stories — corroborating or conflicting — or once
  more from the lead's story; for an open question, at most one more sentence of the lead's story.
  Never related reading.
- **Related articles**: the other stories found, listed without quotes and not counted as citations.
- **The direct answer**: the span of the lead quote that answers the question, shown first in bold.
  It is a substring of the verified quote, so it is as honest as the quote.
"""

from __future__ import annotations

from dataclasses import dataclass

from .lexical import terms
from .quantities import QUANTITY_KINDS, disagreeing
from .quotes import verify
from .records import Evidence, Hit, Quote, Source, source_for
from .retrieval import Retrieval
from .spans import answer_span, asked_kind
from .store import Index

SUPPORT_RATIO = 0.8  # a further quote must score at least this share of the best sentence
SAME_FACT = 0.9  # share of the lead's coverage of the question another story's sentence must reach to state the same fact
RELATED_SHOWN = 3
MAX_PER_STORY = 2  # the lead's story may give the asked fact in a second sentence too


@dataclass(frozen=True)
class Composition:
    """What the composer built: the text and its verified quotes, or nothing that verified."""

    text: str
    quotes: tuple[Quote, ...]
    sources: tuple[Source, ...]
    notes: tuple[str, ...]
    direct: Quote | None
    related: tuple[Source, ...]


def choose_evidence(question: str, retrieval: Retrieval, limit: int) -> list[Evidence]:
    """The sentences to quote, lead first (see the module docstring)."""
    evidence = retrieval.evidence
    if not evidence:
        return []
    near = near_best(retrieval)
    asked = retrieval.parts or (question,)
    chosen: list[Evidence] = []
    for i, part in enumerate(asked):
        best = evidence[i] if retrieval.parts and i < len(evidence) else evidence[0]
        lead = _carrying(part, near) or best
        if all(_key(lead) != _key(c) for c in chosen):
            chosen.append(lead)
    if not retrieval.parts:
        chosen.extend(_same_fact(question, chosen[0], near, limit - 1))
    return chosen[:limit]


def near_best(retrieval: Retrieval) -> list[Evidence]:
    """The evidence sentences scoring near the best (at least ``SUPPORT_RATIO`` of it): those a lead quote is chosen from."""
    if not retrieval.evidence:
        return []
    floor = SUPPORT_RATIO * retrieval.evidence[0].score
    return [ev for ev in retrieval.evidence if ev.score >= floor]


def lead_answer(question: str, retrieval: Retrieval) -> Evidence | None:
    """The sentence the lead quote would be when ``question`` asks for a kind of answer: the best of
    those near the best that states one not already in the question (None when none does)."""
    return _carrying(question, near_best(retrieval))


def _carrying(question: str, sentences: list[Evidence]) -> Evidence | None:
    """The best of ``sentences`` holding an answer of the kind ``question`` asks for (None if it asks for none)."""
    if asked_kind(question) is None:
        return None
    return next((ev for ev in sentences if answer_span(question, ev.text) is not None), None)


def _same_fact(question: str, lead: Evidence, near: list[Evidence], limit: int) -> list[Evidence]:
    """Further statements of what is asked: sentences holding an answer of the asked kind and as much
    of the question's wording as the lead (so they answer the same question) — from other stories,
    or a second one from the lead's; for an open question, one more sentence of the lead's story."""
    if limit <= 0:
        return []
    typed = asked_kind(question) is not None
    asked = set(terms(question))
    lead_share = len(asked & set(terms(lead.text))) / max(1, len(asked))
    found: list[Evidence] = []
    quoted = {lead.article_id: 1}
    for ev in near:
        if ev.start == lead.start and ev.article_id == lead.article_id:
            continue
        if quoted.get(ev.article_id, 0) >= MAX_PER_STORY:
            continue
        if typed and answer_span(question, ev.text) is None:
            continue
        if not typed and ev.article_id != lead.article_id:  # an open question: the passage of one story
            continue
        if len(asked & set(terms(ev.text))) / max(1, len(asked)) >= SAME_FACT * lead_share:
            found.append(ev)
            quoted[ev.article_id] = quoted.get(ev.article_id, 0) + 1
            if len(found) >= limit:
                break
    return found


def _key(ev: Evidence) -> tuple[str, int]:
    return ev.article_id, ev.start


def compose(question: str, index: Index, retrieval: Retrieval, limit: int) -> Composition:
    """Quote the chosen sentences, each verified against its article, and write the answer around them."""
    sources: dict[str, Source] = {}
    quotes: list[Quote] = []
    rejected = 0
    for ev in choose_evidence(question, retrieval, limit):
        article = index.articles[ev.article_id]
        number = sources[ev.article_id].number if ev.article_id in sources else len(sources) + 1
        check = verify(article, ev.text, ev.start, ev.end, source=number)
        if not check.ok:
            rejected += 1
            continue
        sources.setdefault(ev.article_id, source_for(number, article, also_of(retrieval.hits, ev.article_id)))
        quotes.extend(check.parts)
    notes = [f"{rejected} quote(s) failed verification and were not shown."] if rejected else []
    related = related_stories(retrieval.hits, set(sources))
    if not quotes:
        return Composition("", (), (), tuple(notes), None, related)
    direct = direct_answer(retrieval.parts[0] if retrieval.parts else question, quotes[0])
    text = render_answer(quotes, sources, direct)
    conflict = disagreement(question, quotes, sources)
    if conflict:
        text += "\n\n" + conflict
        notes.append("The sources give different figures; all are shown with their dates and publishers.")
    return Composition(text, tuple(quotes), tuple(sources.values()), tuple(notes), direct, related)


def direct_answer(question: str, lead: Quote) -> Quote | None:
    """The words of ``lead`` that answer ``question`` (same article, offsets inside the quote), or None."""
    span = answer_span(question, lead.text)
    if span is None:
        return None
    return Quote(lead.article_id, lead.start + span.start, lead.start + span.end, span.text, lead.source, lead.verification)


def related_stories(hits: tuple[Hit, ...], cited: set[str], limit: int = RELATED_SHOWN) -> tuple[Source, ...]:
    """Other stories found on the topic, numbered in their own list; they are not citations."""
    others = [h for h in hits if h.article.id not in cited][:limit]
    return tuple(source_for(i, h.article, h.also_published_by) for i, h in enumerate(others, start=1))


def also_of(hits: tuple[Hit, ...], article_id: str) -> tuple[str, ...]:
    return next((h.also_published_by for h in hits if h.article.id == article_id), ())


def attribution(source: Source) -> str:
    """"The Washington Post (2016)" — who said it and when (and the data set's label of the article,
    "labelled satire by the data set"), as the answer's connective text."""
    who = source.publisher or (f"“{source.title}”" if source.title else "an archived article")
    said = [x for x in (source.published, f"labelled {source.label} by the data set" if source.label else None) if x]
    return f"{who} ({', '.join(said)})" if said else who


def render_answer(quotes: list[Quote], sources: dict[str, Source], direct: Quote | None = None) -> str:
    """The answer's text: the direct answer in bold before the lead quote, then each further quote."""
    by_number = {s.number: s for s in sources.values()}
    lines: list[str] = []
    said: set[int] = set()
    for q in quotes:
        source = by_number[q.source]
        if not lines:
            lead = f"according to {attribution(source)}: “{q.text}” [{q.source}]"
            lines.append(f"**{direct.text}** — {lead}" if direct is not None else lead[0].upper() + lead[1:])
        elif q.source in said:
            lines.append(f"It also reports: “{q.text}” [{q.source}]")
        else:
            lines.append(f"{attribution(source)} reports: “{q.text}” [{q.source}]")
        said.add(q.source)
    return "\n\n".join(lines)


def disagreement(question: str, quotes: list[Quote], sources: dict[str, Source]) -> str:
    """When quotes from different stories give different values for the same quantity the question
    asks about (see ``quantities``), say so and set them side by side, each with its publisher and
    date, instead of picking one. A question asking for a name, place, date or reason compares none."""
    kind = asked_kind(question)
    kinds = QUANTITY_KINDS if kind is None else tuple(k for k in QUANTITY_KINDS if k == kind)
    if not kinds:
        return ""
    by_number = {s.number: s for s in sources.values()}
    stated = disagreeing(question, [(q.source, q.text) for q in quotes], kinds)
    if len(stated) < 2:
        return ""
    parts = [f"{attribution(by_number[n])} gives {q.text} [{n}]" for n, q in sorted(stated.items())]
    return "The sources disagree: " + "; ".join(parts) + "."
