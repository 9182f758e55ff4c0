"""Quantities a sentence states, and when two stories give different values for the same one.

A quantity is a number of something ("120 homes"), an amount of money ("$4 million") or a share
("12 percent"), found by ``mentions.find_spans`` (years and dates are never quantities). Two
statements are of **the same quantity** when they are of the same kind and unit — the same counted
thing, the same currency, percent or percentage points — and the same subject: the words of the
question that stand near either figure (the unit left out) are shared, and each sentence holds all
of them ("unemployment fell to 5 percent" and "the economy grew 3 percent" are two subjects). They **disagree** when,
so matched, their values differ ("$4 million" and "$4,000,000" are one value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexical import terms
from .mentions import Span, find_spans, stem
from .vocabulary import AnswerKind

QUANTITY_KINDS: tuple[AnswerKind, ...] = ("number", "money", "share")
REACH = 10  # words either side of a figure read as its subject
UNIT_WORDS = 3  # words after a number read for what it counts
_WORD = re.compile(r"\w[\w'’-]*")
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9,
           "trillion": 1e12, "tn": 1e12}
_CURRENCIES = {"$": "dollar", "£": "pound", "€": "euro", "¥": "yen", "₹": "rupee"}
_CURRENCY_WORD = re.compile(r"(?i)\b(dollar|pound|euro|yen|yuan|renminbi|rupee|rouble|ruble|franc|peso|cent|pence|dinar)s?\b")
_VALUE = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?(thousand|million|billion|trillion|bn|mn|tn|k|m|b)?\b", re.I)
_CLAUSE_BREAK = re.compile(r"[;:()\[\]—–\"“”]|,\s")


@dataclass(frozen=True)
class Quantity:
    """One stated figure: ``text`` as written, its kind, unit, value (None when not a plain figure,
    such as a range), the question's words near it (its subject, the unit left out) and the
    question's words anywhere in its sentence."""

    text: str
    kind: AnswerKind
    unit: frozenset[str]
    value: float | None
    subject: frozenset[str]
    sentence: frozenset[str]

    def same_quantity(self, other: Quantity) -> bool:
        return (self.kind == other.kind and bool(self.unit & other.unit) and bool(self.subject & other.subject)
                and self.subject <= other.sentence and other.subject <= self.sentence)

    def same_value(self, other: Quantity) -> bool:
        if self.value is not None and other.value is not None:
            return abs(self.value - other.value) <= 1e-9 * max(abs(self.value), abs(other.value), 1.0)
        return " ".join(self.text.lower().split()) == " ".join(other.text.lower().split())


def value_of(text: str) -> float | None:
    """The value of one figure written in digits ("1,200", "$4.5 million", "12%"); None for a range
    or a figure in words."""
    found = _VALUE.findall(text)
    if len(found) != 1:
        return None
    digits, scale = found[0]
    return float(digits.replace(",", "")) * _SCALES.get(scale.lower(), 1.0)


def _unit(span: Span, sentence: str) -> frozenset[str]:
    if span.kind == "share":
        return frozenset({"pp" if "point" in span.text.lower() else "%"})
    if span.kind == "money":
        symbol = next((name for sign, name in _CURRENCIES.items() if sign in span.text), None)
        word = _CURRENCY_WORD.search(span.text)
        return frozenset({symbol or (word.group(1).lower() if word else "dollar")})
    after = _CLAUSE_BREAK.split(sentence[span.end:], maxsplit=1)[0]
    counted = (stem(w) for w in _WORD.findall(after)[:UNIT_WORDS])
    return frozenset(s for s in counted if s)


def _subject(span: Span, sentence: str, topic: frozenset[str], unit: frozenset[str]) -> frozenset[str]:
    before = _WORD.findall(sentence[:span.start])[-REACH:]
    after = _WORD.findall(sentence[span.end:])[:REACH]
    near = {s for w in (*before, *after) if (s := stem(w))}
    return frozenset((near & topic) - unit)


def quantities(sentence: str, question: str, kinds: tuple[AnswerKind, ...] = QUANTITY_KINDS) -> list[Quantity]:
    """The figures of ``sentence`` of ``kinds``, each with its unit and the words of ``question`` near it."""
    topic = frozenset(terms(question))
    present = topic & frozenset(terms(sentence))
    found = []
    for kind in kinds:
        for span in find_spans(sentence, kind):
            unit = _unit(span, sentence)
            value = value_of(span.text) if kind != "number" or any(c.isdigit() for c in span.text) else None
            found.append(Quantity(span.text, kind, unit, value, _subject(span, sentence, topic, unit), present))
    return found


def disagreeing(question: str, statements: list[tuple[int, str]], kinds: tuple[AnswerKind, ...] = QUANTITY_KINDS,
                ) -> dict[int, Quantity]:
    """Of ``statements`` (a story's number and a sentence it states), one figure per story when two or
    more stories give different values for the same quantity; empty when none do."""
    stated = [(story, q) for story, sentence in statements for q in quantities(sentence, question, kinds)]
    chosen: dict[int, Quantity] = {}
    for i, (story, q) in enumerate(stated):
        for other_story, other in stated[i + 1:]:
            if other_story != story and q.same_quantity(other) and not q.same_value(other):
                chosen.setdefault(story, q)
                chosen.setdefault(other_story, other)
    return chosen
