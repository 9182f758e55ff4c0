"""Constraints: the distinctive conditions a question puts on its answer, and whether a text states them.

A near-miss question is one the archive discusses without stating the asked fact: the question
asks for the figure of fiscal year 2016 and the article gives this year's, or for the final count
and the article has the preliminary one, or for the secretary of agriculture and the article only
mentions the Agriculture Department. ``constraints`` lists a question's distinctive conditions —
years, dates, numbers, capitalised names, named offices, stage words and reporting periods — as
written; ``covered`` tells whether a sentence or an article states one of them.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .lexical import terms
from .mentions import DAY, MONTH, WEEKDAY, WORD_NUMBER, YEAR, find_spans, stem
from .vocabulary import DEMONYMS, name_runs, word_set

ConstraintKind = Literal["year", "date", "number", "name", "role", "stage", "period"]

__all__ = ["Constraint", "ConstraintKind", "constraints", "covered"]


@dataclass(frozen=True)
class Constraint:
    """A distinctive condition the answer must satisfy; ``text`` is as written in the question."""

    kind: ConstraintKind
    text: str


_YEAR_IN = re.compile(rf"(?<![\w$£€¥.,]){YEAR}(?!\d)")
_PERIOD = re.compile(
    rf"(?i)\b(?:(?:fiscal|financial|calendar|tax|school|academic|model|budget)[\s-]year(?:\s(?:of\s)?{YEAR}"
    rf"(?:[-–/]\d{{2,4}})?)?|fiscal\s{YEAR}|FY\s?-?\d{{2,4}}"
    rf"|(?:(?:first|second|third|fourth|final|last|1st|2nd|3rd|4th)[\s-](?:fiscal\s)?quarter|Q[1-4])"
    rf"(?:,?\s(?:of\s)?(?:fiscal\s)?{YEAR})?"
    rf"|(?:first|second|latter|1st|2nd)[\s-]half(?:\sof\s(?:the\syear|{YEAR}))?|H[12]\s{YEAR}"
    r"|year[\s-]to[\s-]date|full[\s-]year)\b")
_PERIOD_KEYS = ("fiscal", "financial", "calendar", "tax", "school", "academic", "model", "budget", "fy", "quarter", "q1",
                "q2", "q3", "q4", "half", "h1", "h2", "to date", "to-date", "full")
_MONTH_NAMES = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTH_NAMES.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m} | {"sept": 9})
_DATE = re.compile(
    rf"\b\d{{4}}-\d\d-\d\d\b|\b{MONTH}\s{DAY}(?:,?\s{YEAR})?\b(?!:)|\b{DAY}\s(?:of\s)?{MONTH}(?:,?\s{YEAR})?\b"
    rf"|\b{MONTH},?\s(?:of\s)?{YEAR}\b|\b(?:January|February|March|April|June|July|August|September|October|"
    rf"November|December)\b|(?<=\bin\s)May\b|\b{WEEKDAY}\b")
ROLE_HEADS = word_set("""secretary minister adviser advisor attorney director chief chairman chairwoman chair chairperson
commissioner ambassador governor mayor president speaker spokesman spokeswoman spokesperson justice judge senator
representative envoy administrator treasurer ceo cfo coo head leader whip chancellor prosecutor counsel editor officer
executive manager strategist premier inspector auditor comptroller superintendent sheriff marshal commander admiral czar
tsar nominee candidate mate general secretary-general""")
ROLE_MODIFIERS = word_set("""national security foreign defense defence state health education energy treasury homeland
interior labor labour agriculture commerce justice transportation housing veterans press communications economic finance
trade prime deputy chief vice assistant senior special top white house campaign executive operating financial attorney
solicitor home environment environmental culture intelligence military legal policy political general district federal
presidential vice-presidential running lieutenant acting interim majority minority senate supreme court appeals cabinet
party opposition police army navy joint staff democratic republican surgeon inspector postmaster""")
STAGES = word_set("""final finals first second third fourth fifth initial preliminary later last next latest previous
original revised interim runoff run-off primary semifinal semifinals quarterfinal opening closing subsequent
reelection recount revote rerun rematch retrial""")
_TIMES = word_set("week weekend month year night quarter half day days weeks months years decade century")
_SYNONYMS = {"advisor": "adviser", "defence": "defense", "labour": "labor", "chairwoman": "chairman",
             "chairperson": "chairman", "spokeswoman": "spokesman", "spokesperson": "spokesman",
             "organisation": "organization", "1st": "first", "2nd": "second", "3rd": "third", "4th": "fourth"}
_TOKEN = re.compile(r"\w[\w'’.-]*\w|\w")
_WORD = re.compile(r"\w[\w'’]*\w|\w")
ROLE_SLACK = 1  # content words a role's terms may be spread over beyond their number: "secretary of the Department of X"


def _role_spans(question: str) -> list[tuple[int, int]]:
    """Named offices: role nouns with their modifiers ("national security adviser") or their "of X"
    complement ("secretary of agriculture"); a bare role noun ("the senator") is not distinctive."""
    toks = list(_TOKEN.finditer(question))
    low = [t.group().lower() for t in toks]
    out = []
    i = 1
    while i < len(toks):
        j = i
        while j < len(toks) and (low[j] in ROLE_HEADS or low[j] in ROLE_MODIFIERS) and (
                j == i or question[toks[j - 1].end():toks[j].start()].isspace()):
            j += 1
        heads = [k for k in range(i, j) if low[k] in ROLE_HEADS]
        if not heads:
            i = j + 1
            continue
        last = heads[-1]
        end = last
        if last + 1 < len(toks) and low[last + 1] in ("of", "for"):
            m = last + 2 + (last + 2 < len(toks) and low[last + 2] == "the")
            c = m
            capital = m < len(toks) and toks[m].group()[:1].isupper()
            while c < len(toks) and (c - m < (4 if capital else 2)) and stem(low[c]) is not None \
                    and not low[c][:1].isdigit() and (toks[c].group()[:1].isupper() if capital else not low[c].endswith("ed")):
                c += 1
            end = c - 1 if c > m else end
        if end > i or last > i:
            out.append((toks[i].start(), toks[end].end()))
        i = max(j, end + 1)
    return out


def _stage_spans(question: str, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for m in _TOKEN.finditer(question):
        word = m.group().lower()
        if not (word in STAGES or word.startswith("re-")) or any(a <= m.start() < b for a, b in taken):
            continue
        nxt = question[m.end():].split()[:1]
        if nxt and nxt[0].lower().strip("?,.") in _TIMES:
            continue
        out.append((m.start(), m.end()))
    return out


def constraints(question: str) -> list[Constraint]:
    """The distinctive conditions ``question`` puts on its answer, in the order they are written.

    Every year is a "year" constraint, also inside a date or period; dates are month/day/weekday
    expressions; numbers are written amounts, counts and shares (digits, or words with a scale);
    names are capitalised runs after the question's opening words (demonyms included, titles removed);
    roles are named offices; stages are order words (final, first, initial, runoff, re-…) not
    followed by a unit of time; periods are reporting periods (fiscal year, quarter, first half, …)."""
    found: list[tuple[int, Constraint]] = []
    periods = [(m.start(), m.end()) for m in _PERIOD.finditer(question)]
    dates = [(m.start(), m.end()) for m in _DATE.finditer(question)]
    roles = _role_spans(question)
    found += [(a, Constraint("period", question[a:b])) for a, b in periods]
    found += [(a, Constraint("date", question[a:b])) for a, b in dates]
    found += [(a, Constraint("role", question[a:b])) for a, b in roles]
    amounts = [s for kind in ("money", "share", "number") for s in find_spans(question, kind)]  # type: ignore[arg-type]
    years = [(m.start(), m.end()) for m in _YEAR_IN.finditer(question)
             if not any(s.start <= m.start() < s.end for s in amounts if s.kind != "number")]
    found += [(a, Constraint("year", question[a:b])) for a, b in years]
    timed = periods + dates + years
    for s in amounts:
        written = any(ch.isdigit() for ch in s.text) or re.search(r"(?i)hundred|thousand|million|billion", s.text)
        if written and not any(a < s.end and s.start < b for a, b in timed):
            found.append((s.start, Constraint("number", s.text)))
    for start, end, text, kind in name_runs(question):
        if (kind is not None or text.lower() in DEMONYMS) and not any(a < end and start < b for a, b in timed + roles):
            found.append((start, Constraint("name", text)))
    found += [(a, Constraint("stage", question[a:b])) for a, b in _stage_spans(question, periods + roles)]
    return list(dict.fromkeys(c for _, c in sorted(found, key=lambda x: x[0])))


# ---- is a constraint stated in a text? ---------------------------------------------------------

_EXECUTIVE = re.compile(r"\bchief executive officer\b|\bceo\b")
_RE_PREFIX = re.compile(r"\bre-(?=\w)")
_RUN_OFF = re.compile(r"\brun[-\s]off\b")
_SYNONYM = re.compile(r"\b(?:" + "|".join(_SYNONYMS) + r")\b")


def _normal(text: str) -> str:
    """Lower case, one spelling of variants: "re-election" → "reelection", "run-off" → "runoff", "CEO" →
    "chief executive", "advisor" → "adviser", "2nd" → "second"."""
    text = text.lower()
    if "re-" in text:
        text = _RE_PREFIX.sub("re", text)
    if "ceo" in text or "chief executive officer" in text:
        text = _EXECUTIVE.sub("chief executive", text)
    if "run" in text:
        text = _RUN_OFF.sub("runoff", text)
    if any(variant in text for variant in _SYNONYMS):
        text = _SYNONYM.sub(lambda m: _SYNONYMS[m.group()], text)
    return text


@lru_cache(maxsize=32)
def _stems(text: str) -> tuple[str, ...]:
    """The stemmed content terms of ``text`` in order; cached, as one article is checked against every
    constraint of a question."""
    return tuple(terms(_normal(text)))


@lru_cache(maxsize=64)
def _year_forms(year: str) -> re.Pattern[str]:
    short = year[2:]
    return re.compile(rf"(?<![\d$£€¥]){year}(?!\d)|\bFY\s?-?{short}\b|\b\d{{4}}[-–/]{short}\b|['’]{short}\b")


def _year_covered(year: str, text: str) -> bool:
    """"2016" as such, or "FY16", "2015-16", "'16"; found by its last two digits, then checked in place."""
    short, forms = year[2:], _year_forms(year)
    at = text.find(short)
    while at >= 0:
        if forms.search(text, max(0, at - 8), at + 3):
            return True
        at = text.find(short, at + 1)
    return False


_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen " \
        "eighteen nineteen"
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety"
_UNIT_VALUES = {w: float(i) for i, w in enumerate(_ONES.split())} | \
    {w: 10.0 * i for i, w in enumerate(_TENS.split()) if i > 1}
_SCALES = {"hundred": 1e2, "thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9,
           "b": 1e9, "trillion": 1e12, "tn": 1e12, "dozen": 12.0}
_DENOMINATORS = {"half": 2, "halves": 2, "third": 3, "quarter": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
                 "ninth": 9, "tenth": 10}
_FRACTION = re.compile(r"(\w+)[-\s](half|halves|third|quarter|fifth|sixth|seventh|eighth|ninth|tenth)s?\b")
_RATIO = re.compile(r"(\w+)\s(?:in|out\sof)\s(?:every\s)?(\w+)")
_DIGIT_VALUE = re.compile(r"(\d+(?:\.\d+)?)\s?(hundred|thousand|million|billion|trillion|bn|mn|tn|m|k|b)?\b")
_UNIT_WORDS = frozenset({"and", "dollar", "dollars", "pound", "pounds", "euro", "euros", "percent", "per", "cent"})


def _value(text: str) -> float | None:
    """The value of a written amount: "$4.5 million" → 4500000, "twenty-five" → 25; a share in percent:
    "a third" → 33.3, "one in five" → 20. ``None`` for a vague amount ("dozens")."""
    low = text.lower().replace(",", "").strip()
    fraction = _FRACTION.search(low)
    if fraction or low == "half":
        top, part = fraction.groups() if fraction else ("a", "half")
        return round(100 * (1.0 if top in ("a", "one") else _value(top) or 1.0) / _DENOMINATORS[part], 1)
    ratio = _RATIO.search(low)
    if ratio and (part := _value(ratio.group(1))) and (whole := _value(ratio.group(2))):
        return round(100 * part / whole, 1)
    digits = _DIGIT_VALUE.search(low)
    if digits:
        return float(digits.group(1)) * _SCALES.get(digits.group(2) or "", 1.0)
    if not re.fullmatch(rf"(?:{WORD_NUMBER})(?:\s\w+)*", low):
        return None
    total, current = 0.0, 0.0
    for word in re.split(r"[\s-]+", low):
        if word in _UNIT_VALUES:
            current += _UNIT_VALUES[word]
        elif word in ("a", "an"):
            current = current or 1.0
        elif word in _SCALES and word not in ("m", "k", "b"):
            current = (current or 1.0) * _SCALES[word]
            if _SCALES[word] >= 1e3:
                total, current = total + current, 0.0
        elif word not in _UNIT_WORDS:
            break
    return total + current or None


def _amount_covered(written: str, text: str) -> bool:
    kind = "money" if find_spans(written, "money") else "share" if find_spans(written, "share") else "number"
    want = _value(written)
    if want is None:
        return False
    kinds = ("money",) if kind == "money" else ("share",) if kind == "share" else ("number", "money")
    tolerance = 0.5 if kind == "share" else 1e-9 * max(abs(want), 1)
    return any(abs((_value(s.text) or -1e18) - want) <= tolerance
               for k in kinds for s in find_spans(text, k))  # type: ignore[arg-type]


def _date_covered(written: str, text: str) -> bool:
    iso = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)", written.strip())
    if iso:
        year, month, day = iso.group(1), int(iso.group(2)), str(int(iso.group(3)))
    else:
        words = re.findall(r"[A-Za-z]+|\d+", written)
        month = next((_MONTH_NAMES[w.lower()] for w in words if w.lower() in _MONTH_NAMES), 0)
        year = next((w for w in words if re.fullmatch(YEAR, w)), "")
        day = next((str(int(w)) for w in re.findall(r"\b\d{1,2}\b", written)), "")
        if not month:
            return re.search(rf"(?i)\b{re.escape(written.strip())}\b", text) is not None
    names = [calendar.month_name[month], calendar.month_abbr[month]] + (["Sept"] if month == 9 else [])
    mon = "(?:" + "|".join(names) + r")\.?"
    if year and not (_year_covered(year, text) or re.search(rf"{year}-{month:02d}", text)):
        return False
    if day:
        day_at = rf"0?{day}(?:st|nd|rd|th)?"
        pattern = rf"(?i)\b{mon}\s+{day_at}\b|\b{day_at}\s+(?:of\s+)?{mon}\b|-{month:02d}-0?{day}\b"
    else:
        pattern = rf"(?i)\b{mon}\b|-{month:02d}-\d\d\b"
    return re.search(pattern, text) is not None


def _role_covered(written: str, text: str) -> bool:
    """The role's head and all its other content terms within a run of content words at most one
    longer than the role: "Agriculture Secretary", "secretary of the Department of Agriculture"."""
    want = set(_stems(written))
    heads = [stem(w) for w in _WORD.findall(_normal(written)) if w in ROLE_HEADS]
    head = heads[-1] if heads else None
    if head is None:
        return False
    have = _stems(text)
    size = len(want) + ROLE_SLACK
    return any(s == head and any(want <= set(have[max(0, j):j + size]) for j in range(i - size + 1, i + 1))
               for i, s in enumerate(have))


def _period_text(text: str) -> str:
    """The stretches of a long ``text`` around its period words (a short text whole), for ``_period_keys``."""
    if len(text) < 2000:
        return text
    lower = text.lower()
    parts = []
    for key in _PERIOD_KEYS:
        at = lower.find(key)
        while at >= 0:
            parts.append(text[max(0, at - 30):at + 40])
            at = lower.find(key, at + 1)
    return " … ".join(parts)


@lru_cache(maxsize=256)
def _period_keys(text: str) -> frozenset[tuple[str, str, str]]:
    """(kind, order, year) for each reporting period in ``text``: "fiscal year 2016" → ("fiscal", "", "2016")."""
    keys = set()
    orders = {"first": "1", "1st": "1", "second": "2", "2nd": "2", "third": "3", "3rd": "3", "fourth": "4", "4th": "4",
              "final": "last", "last": "last", "latter": "2"}
    for m in _PERIOD.finditer(text):
        p = m.group().lower()
        year = re.search(YEAR, p)
        fy = re.search(r"fy\s?-?(\d{2,4})\b", p)
        y = year.group() if year else ("20" + fy.group(1)[-2:] if fy else "")
        first = p.split()[0].split("-")[0]
        order = orders.get(first, p[1] if re.match(r"[qh][1-4]", p) else "")
        kind = ("quarter" if "quarter" in p or re.match(r"q[1-4]", p) else "half" if "half" in p or re.match(r"h[12]", p)
                else "fiscal" if first in ("fiscal", "financial", "fy") or p.startswith("fy") else first)
        keys.add((kind, order, y))
    return frozenset(keys)


def covered(constraint: Constraint, text: str) -> bool:
    """Whether ``text`` (a sentence or a whole article) states ``constraint``: years and numbers as such
    (by value: "$4.5m" states "$4.5 million"), dates by month with day and year, names by all their
    stemmed words (or the last word of a person's name), roles by their head within a few words of
    its other terms, stages by the word or a close form, periods by kind, order and year."""
    written = constraint.text
    if constraint.kind == "year":
        return _year_covered(written, text)
    if constraint.kind == "number":
        return _amount_covered(written, text)
    if constraint.kind == "date":
        return _date_covered(written, text)
    if constraint.kind == "role":
        return _role_covered(written, text)
    if constraint.kind == "period":
        want = _period_keys(written)
        have = _period_keys(_period_text(text))
        return any(k[:2] == h[:2] and (not k[2] or k[2] == h[2]) for k in want for h in have)
    have_stems = set(_stems(text))
    if constraint.kind == "stage":
        s = stem(_normal(written))
        return (s or _normal(written)) in (have_stems if s else set(_WORD.findall(_normal(text))))
    want_stems = set(_stems(written))
    if want_stems and want_stems <= have_stems:
        return True
    runs = name_runs(written)
    words = written.split()
    return len(words) > 1 and bool(runs) and runs[0][3] == "person" and stem(words[-1]) in have_stems

