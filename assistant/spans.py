"""Answer spans: the kind of answer a question asks for, and where a sentence states one.

``asked_kind`` reads a question's structure — its wh-word and the class of its head noun — and
names the kind of answer wanted (a person, organisation, place, date, number, amount, share, length of time,
reason or other name), or ``None`` for an open question ("what did X say about Y").
``answer_span`` picks, among the candidates ``find_spans`` finds in a sentence (see ``mentions``),
the one that answers the question: of the asked kind, not already stated in the question, and
standing closest to the sentence's words that the question shares. ``constraints`` and
``covered`` (see ``constraints``) tell whether a sentence or article states the question's
distinctive conditions at all.

Every rule is stated in terms of kinds of answers, question structure and general English word
lists (role nouns, place nouns, units, connectives), never in terms of particular questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .constraints import Constraint, constraints, covered
from .lexical import terms
from .mentions import DAY, MONTH, WEEKDAY, YEAR, Span, find_spans, hints, stem
from .vocabulary import (
    AUXILIARIES,
    BE_FORMS,
    CLAUSE_MARKS,
    DETERMINERS,
    HEAD_MODIFIERS,
    HEAD_STOPS,
    MEASURE_WORDS,
    NAMED_KINDS,
    PREPOSITIONS,
    REASON_VERBS,
    WEAK_REASONS,
    WH_LEAD_INS,
    WH_WORDS,
    AnswerKind,
    noun_class,
)

__all__ = ["AnswerKind", "Constraint", "Span", "answer_span", "asked_kind", "constraints", "covered", "find_spans"]


# ---- what kind of answer a question asks for ---------------------------------------------------

_Q_TOKEN = re.compile(r"[\w'$£€.-]*\w|[%,;:?!()“”\"—–]")
_WH_BE = re.compile(r"(?i)\b(what|who|where|when|how)['’]s\b")
_ORG_VERB = re.compile(r"(?:publish|manufactur|broadcast|insur|print)\w*$|air(?:s|ed)$")
_MONEY_CUE = re.compile(r"""\b(?:cost|pay|paid|spen[dt]|price|money|fund|raise|worth|fine|charg|sell|sold|buy|bought|earn|
donat|invest|ow[en]|budget|salar|dollar|pound|euro|revenue|profit|los[est]|bill|tax|fee|bail|bid|offer|valu|settle|compensat|
grant|loan|debt|deficit|wage|bonus|ransom|reward|subsid|cash|lend|lent|borrow|sale|income)""".replace("\n", ""))


def _head_kind(words: list[str]) -> AnswerKind | None:
    """The class of the head noun at the start of ``words`` ("which former state senator" → person)."""
    found: AnswerKind | None = None
    for i, word in enumerate(words[:6]):
        if word in HEAD_STOPS:
            break
        if word in HEAD_MODIFIERS and found is None:
            continue
        if word in ("kind", "type", "sort", "form", "variety"):
            return None
        if word == "name" and words[i + 1:i + 2] == ["of"]:
            return _head_kind(words[i + 2:]) or "name"
        kind = noun_class(word.removesuffix("'s"))
        if word.endswith("'s"):  # a possessive: the head noun follows
            found = None
            continue
        if kind is None:
            if found is not None:
                break
            continue
        found = kind
    return found


def _wh_index(low: list[str]) -> int | None:
    """The position of the wh-word that asks the question (not one opening a relative clause)."""
    for i, word in enumerate(low):
        if word not in WH_WORDS:
            continue
        prev = low[i - 1] if i else ""
        if i == 0 or prev in CLAUSE_MARKS or prev in WH_LEAD_INS or low[i + 1:i + 2] == ["?"]:
            return i
        if prev in PREPOSITIONS and (i == 1 or low[i - 2] in CLAUSE_MARKS or low[i - 2] in WH_LEAD_INS):
            return i
    return None


def _who_kind(rest: list[str], rest_raw: list[str]) -> AnswerKind | None:
    if rest and rest[0] in BE_FORMS:
        after = [w for w in rest_raw[1:] if w not in "?!."]
        if after and after[0][:1].isupper() and all(w[:1].isupper() or w in ("of", "the") for w in after):
            return None  # "who is Ken Bone?" asks for a description, not a name
        if after and rest[1] in DETERMINERS and _head_kind(rest[1:]) == "organisation":
            return "organisation"
        return "person"
    if rest and _ORG_VERB.match(rest[0]):
        return "organisation"
    return "person"


def _how_kind(rest: list[str]) -> AnswerKind | None:
    word = rest[0] if rest else ""
    if word == "many":
        return "number"
    if word == "much":
        if rest[1:2] == ["of"]:
            return "share"
        return "money" if _MONEY_CUE.search(" ".join(rest[1:])) else "number"
    if word == "long" and rest[1:2] != ["is"]:  # "how long did it last" (not "how long is the wall")
        return "duration"
    if word in MEASURE_WORDS:
        return "number"
    return "reason" if word == "come" else None


def _kind_of(question: str) -> AnswerKind | None:
    raw = [m.group() for m in _Q_TOKEN.finditer(_WH_BE.sub(r"\1 is", question.replace("’", "'")))]
    low = [t.lower() for t in raw]
    i = _wh_index(low)
    if i is None:
        if low and low[0] in ("name", "identify", "list", "give", "state", "find"):
            return _head_kind(low[1:])
        return None
    wh, rest = low[i], low[i + 1:]
    simple: dict[str, AnswerKind] = {"why": "reason", "when": "date", "where": "place", "whose": "person"}
    if wh in simple:
        return simple[wh]
    if wh in ("who", "whom"):
        return _who_kind(rest, raw[i + 1:])
    if wh == "how":
        return _how_kind(rest)
    if not rest:
        return None
    if rest[0] in BE_FORMS:  # "what was the death toll", "which is the largest city"
        after = rest[1:]
        return _head_kind(after) if after and (after[0] in DETERMINERS or after[0].endswith("'s")) else None
    if rest[0] == "of":  # "which of the candidates"
        return _head_kind(rest[1:])
    if rest[0] in REASON_VERBS:
        return "reason"
    return None if rest[0] in AUXILIARIES else _head_kind(rest)


def asked_kind(question: str) -> AnswerKind | None:
    """The kind of answer ``question`` asks for, or ``None`` for an open question ("what did X say")."""
    return _parse(question).kind


# ---- the answer in a sentence ------------------------------------------------------------------

_WORD = re.compile(r"\w[\w'’]*\w|\w")
# A kind that may stand in for the asked one, at a quarter of the weight: a person for an organisation
# and the reverse; an amount of money for a share (a question asking how much of a budget went somewhere
# is answered by an amount as well as by a percentage), a share for a number (a question asking how
# large a rise or fall was is answered by a percentage) and a number for a length of time ("lasted 40").
_SECOND_CHOICE: dict[str, tuple[AnswerKind, ...]] = {
    "person": ("organisation",), "organisation": ("person",), "share": ("money",), "money": ("share",),
    "number": ("share",), "duration": ("number",),
}
TIER_WEIGHTS = (1.0, 0.5, 0.25)  # the asked class, an unclassified name, the other of person/organisation
HALF_WEIGHT_CHARS = 10  # a shared word this many characters away counts half as much as an adjacent one
_PASSIVE = re.compile(r"(?i)\bwho\s+(?:was|were|is|are|(?:has|have|had)\s+been|will\s+be)\s+(?:\w+(?:ed|en|wn)|shot|hit|"
                      r"sent|held|caught|hurt|told|paid|sold|bought|led|left|struck|won|lost|sworn|born)\b(?!.*\bby\b)")
# what makes an unclassified name a place: a spatial preposition before it, or a place noun and "of" ("the town of …")
_SPATIAL = re.compile(r"(?i)\b(?:(?:in|at|from|to|near|across|outside|inside|into|through|throughout|around|within|along|"
                      r"towards?)\s+(?:the\s+)?|(?:town|city|village|county|state|province|region|district|borough|"
                      r"capital|port|island|suburb|neighbou?rhood|municipality)\s+of\s+)$")
_AS_A_RESULT = re.compile(r"(?i)as\s+a\s+result\b")
# A question naming the grain of the date it asks for is answered only by a date of that grain: "in what year"
# by one holding a year ("on Thursday" or "last week" does not say it), "on what date" or "what day" by a day
# (a weekday, a day of a month, yesterday, today, tomorrow), not "next month" or "the past week".
_GRAINS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile(r"(?i)\b(?:what|which)\s+year\b"), re.compile(rf"(?<!\d){YEAR}(?!\d)|['’]\d\d\b")),
    (re.compile(r"(?i)\b(?:what|which)\s+(?:date|day)\b"), re.compile(
        rf"\b{WEEKDAY}\b|\b(?i:yesterday|today|tonight|tomorrow)\b|\b{MONTH}\s{DAY}\b|\b{DAY}\s(?:of\s)?{MONTH}"
        r"|\b\d{4}-\d\d-\d\d\b|\b\d{1,2}/\d{1,2}\b")),
)
_AGENT = re.compile(r"\b[Bb]y\s+(?:[A-Z][\w.'’]*\s+){0,3}$")  # "by (President) …": the agent


@dataclass(frozen=True)
class _Question:
    kind: AnswerKind | None
    lower: str
    stems: frozenset[str]
    prefixes: frozenset[str]  # the stems' first three letters: a word whose stem is one of them begins so
    passive: bool  # "who was named …?" asks for the one named, not the one who named
    grain: re.Pattern[str] | None  # "in what year …?" / "on what date …?": what a date must hold to answer it


@lru_cache(maxsize=1024)
def _parse(question: str) -> _Question:
    stems = frozenset(terms(question))
    kind = _kind_of(question)
    grain = next((p for asked, p in _GRAINS if kind == "date" and asked.search(question)), None)
    return _Question(kind, " ".join(question.lower().split()), stems, frozenset(s[:3] for s in stems),
                     _PASSIVE.search(question) is not None, grain)


def _stated(span: Span, q: _Question) -> bool:
    """Whether the question already states ``span``: as written, by all its content terms, or (a person)
    by the last word of the name."""
    text = " ".join(span.text.lower().split())
    at = q.lower.find(text)
    while at >= 0:
        if not (at and q.lower[at - 1].isalnum()) and not q.lower[at + len(text):at + len(text) + 1].isalnum():
            return True
        at = q.lower.find(text, at + 1)
    stems = {s for s in (stem(w) for w in _WORD.findall(span.text)) if s}
    if stems and stems <= q.stems:
        return True
    words = span.text.split()
    return span.kind == "person" and len(words) > 1 and stem(words[-1]) in q.stems


def _tier(span: Span, asked: AnswerKind, sentence: str) -> int | None:
    """0 for the class asked, 1 for an unclassified name (for a place, only after "in", "at", "through", … or "the town of"),
    2 for a kind that may stand in for the asked one (``_SECOND_CHOICE``); ``None`` for any other class."""
    if asked == "reason":  # "because", "due to", "citing" before "after", "amid", "over", "since", "as"
        return 1 if span.text.split()[0].lower() in WEAK_REASONS and not _AS_A_RESULT.match(span.text) else 0
    if span.kind != asked and span.kind in _SECOND_CHOICE.get(asked, ()):
        return 2
    if asked not in NAMED_KINDS or asked == "name" or span.kind == asked:
        return 0
    if span.kind == "name":
        return 1 if asked != "place" or _SPATIAL.search(sentence, max(0, span.start - 24), span.start) else None
    return 2 if span.kind in _SECOND_CHOICE.get(asked, ()) else None


def _closeness(span: Span, anchors: list[tuple[int, int, str]]) -> float:
    """How close the question's words stand to ``span``: for each shared term its nearest occurrence
    outside the span, weighted 1 / (1 + distance / HALF_WEIGHT_CHARS), summed."""
    best: dict[str, float] = {}
    for a, b, term in anchors:
        if b > span.start and a < span.end:
            continue
        weight = 1.0 / (1.0 + max(a - span.end, span.start - b) / HALF_WEIGHT_CHARS)
        best[term] = max(best.get(term, 0.0), weight)
    return sum(best.values())


def answer_span(question: str, sentence: str) -> Span | None:
    """The span of ``sentence`` that answers ``question``: of the kind asked for and not already in the
    question; of the candidates, the one of the asked class whose surroundings hold the question's words
    most closely (a person or organisation may stand in for the other, an amount for a share, a share for a
    number, at a quarter of the weight; for
    "who was named …?", the one after "by" counts a third). ``None`` when the question is open or the
    sentence has no such span."""
    q = _parse(question)
    if q.kind is None:
        return None
    candidates = set(find_spans(sentence, q.kind))
    for other in _SECOND_CHOICE.get(q.kind, ()):
        candidates.update(find_spans(sentence, other))
    h = hints(sentence)
    shared = frozenset(w for w in h.vocabulary if w[:3] in q.prefixes and stem(w) in q.stems)
    anchors = [(a, b, stem(w) or "") for a, b, w in h.positions(shared)]
    best: tuple[float, int, int, Span] | None = None
    for span in candidates:
        tier = _tier(span, q.kind, sentence)
        if tier is None or _stated(span, q) or (q.grain is not None and not q.grain.search(span.text)):
            continue
        score = _closeness(span, anchors) * TIER_WEIGHTS[tier]
        if q.passive and _AGENT.search(sentence, max(0, span.start - 40), span.start):
            score /= 3
        key = (-score, tier, span.start, span)
        if best is None or key[:3] < best[:3]:
            best = key
    return best[3] if best else None
