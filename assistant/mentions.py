"""Mentions of answer kinds in a sentence: dates, numbers, money amounts, shares, reasons and names.

``find_spans`` finds the candidates of one kind by their surface form: dates ("Tuesday, Sept. 27,
2016", "last week", "fiscal 2016"), numbers (digits, number words, "a dozen", ranges), money ("$4
million", "£3bn", "70m euros"), shares ("40 percent", "a third of", "one in five", "half"), reason
clauses (from "because", "due to", "citing", … to the end of the clause) and capitalised names (see
``vocabulary``). Dates, numbers, amounts and shares never overlap: a year inside an amount is no
date, a number inside a date, an amount or a share is no number. Each pattern is tried only at
token starts shortly before a digit or one of its key words, so a long sentence stays fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .lexical import terms
from .vocabulary import (
    CURRENCY_WORDS,
    MONTHS,
    OVER_REASON_STARTS,
    PARTICLE_VERBS,
    PRONOUNS,
    REASON_WORDS,
    RELATIVE_DATE_WORDS,
    SHARE_WORDS,
    TIME_WORDS,
    WEAK_REASONS,
    WEEKDAYS,
    AnswerKind,
    name_runs,
    word_set,
)

__all__ = ["DAY", "DIGITS", "MONTH", "NUMBER_WORDS", "WEEKDAY", "WORD_NUMBER", "YEAR", "Hints", "Span", "find_spans", "hints", "stem"]


@dataclass(frozen=True)
class Span:
    """A candidate answer: ``sentence[start:end] == text``. For names ``kind`` is the class the run was
    given (person, organisation, place, or name when unclear); otherwise it is the kind searched for."""

    start: int
    end: int
    text: str
    kind: AnswerKind


# ---- dates, numbers, money, shares -------------------------------------------------------------

_UNITS = "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|" \
         "seventeen|eighteen|nineteen"
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_SCALE = "hundred|thousand|million|billion|trillion"
WORD_NUMBER = (rf"(?:(?:{_TENS})(?:-(?:{_UNITS}))?|{_UNITS})(?:[\s-](?:{_SCALE}))*|(?:a|an)\s(?:{_SCALE}|dozen)"
               rf"(?:\s(?:{_SCALE}))*|dozens|hundreds|thousands|millions|billions")
DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_NB = r"(?<![\w$£€¥.,/:-])"  # no number starts inside a word, amount, decimal, time or code
_ND = rf"{_NB}(?:{DIGITS})(?:\s(?:{_SCALE}))?(?![\w%]|[.,:/]\d)"
_NW = rf"\b(?:{WORD_NUMBER})\b"
_NUMBER_DIGITS = re.compile(rf"\b(?i:between)\s{_ND}\s(?i:and)\s{_ND}|{_ND}(?:\s?[-–]\s?{_ND}|\s(?:to|or)\s{_ND})?")
_NUMBER_WORDS = re.compile(rf"(?i)\bbetween\s{_NW}\sand\s{_NW}|{_NW}(?:\s(?:to|or)\s{_NW})?")
_CUR_WORD = r"dollars?|pounds?|euros?|yen|yuan|renminbi|rupees?|roubles?|rubles?|francs?|pesos?|cents?|pence|dinars?|" \
            r"riyals?|shekels?|lira|bitcoins?"
_MSCALE = rf"(?:\s?(?:{_SCALE}|bn|mn|m|tn|k|b)\b)"
_MONEY_DIGITS = re.compile(
    rf"(?:US|A|C|HK|NZ)?[$£€¥₹]\s?(?:{DIGITS}){_MSCALE}?|\b(?:USD|EUR|GBP|JPY|CNY|CHF|CAD|AUD)\s?(?:{DIGITS}){_MSCALE}?"
    rf"|{_NB}(?:{DIGITS}){_MSCALE}?\s(?:US\s)?(?i:{_CUR_WORD})\b|{_NB}\d+(?:\.\d+)?(?:bn|mn|m)\b")
_MONEY_WORDS = re.compile(rf"(?i)\b(?:{WORD_NUMBER})\s(?:US\s)?(?:{_CUR_WORD})\b"
                          r"|\b(?:hundreds|thousands|millions|billions)\sof\s(?:US\s)?(?:dollars|pounds|euros)\b")
_FRACTION = r"half|halves|thirds?|quarters?|fifths?|sixths?|sevenths?|eighths?|ninths?|tenths?"
_SHARE_DIGITS = re.compile(rf"{_NB}(?:{DIGITS})(?:\s?%|\s?(?i:percent|per\scent|percentage\spoints?)\b)"
                           r"|\b\d{1,3}\s(?:in|out\sof)\s(?:every\s)?\d{1,3}\b")
_SHARE_WORDS = re.compile(
    rf"(?i)\b(?:{WORD_NUMBER})\s(?:percent|per\scent)\b|\b(?:one|two|three|four|five|six|seven|eight|nine)[-\s]"
    rf"(?:{_FRACTION})\b|\ba\s(?:third|quarter|fifth|sixth|seventh|eighth|ninth|tenth)(?=\s+of\b)"
    rf"|\b(?:{_UNITS})\s(?:in|out\sof)\s(?:every\s)?(?:\d{{1,3}}|{_UNITS}|{_TENS}|a\shundred)\b"
    r"|(?<!first\s)(?<!second\s)(?<!latter\s)(?<!other\s)(?<!last\s)(?<!and\sa\s)(?<!-)\bhalf\b"
    r"(?![-\s](?:time|hour|century|decade|brother|sister))")
MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|" \
         r"Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
DAY = r"[0-3]?\d(?:st|nd|rd|th)?"
WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
YEAR = r"(?:1[89]|20)\d\d"
_UNIT_OF_TIME = r"(?:days?|weeks?|months?|years?|decades?|hours?)"
_DATE_DIGITS = re.compile("|".join([
    r"\b\d{4}-\d\d-\d\d\b", rf"\b{MONTH}\s{DAY}(?:,?\s{YEAR})?\b(?!:)", rf"\b{DAY}\s(?:of\s)?{MONTH}(?:,?\s{YEAR})?\b",
    rf"\b{MONTH},?\s(?:of\s)?{YEAR}\b",
    r"\b(?i:the\s)?(?i:(?:early|late|mid)[-\s])?(?:1[89]|20)\d0s\b|['’]\d0s\b|\b\d{1,2}(?:st|nd|rd|th)\s(?i:century)\b",
    rf"\b(?i:fiscal\s(?:year\s)?){YEAR}\b|\bFY\s?-?\d{{2,4}}\b",
    rf"\b(?i:(?:the\s)?(?:first|second|third|fourth)\squarter\sof\s){YEAR}\b",
    rf"(?<![\w$£€¥.,:/-]){YEAR}(?:[-–/]\d\d(?!\d))?(?![\w%]|[.,:]\d|\s?(?i:percent|per\scent|{_SCALE}))",
    rf"\b\d+\s(?i:{_UNIT_OF_TIME}\sago)\b"]))
_DATE_NAMES = re.compile(
    r"\b(?i:(?:early|late|mid)[-\s])?(?:January|February|March|April|June|July|August|September|October|November|"
    r"December)\b|(?:(?<=\bin\s)|(?<=\bby\s)|(?<=\bof\s)|(?<=since\s)|(?<=until\s)|(?<=early\s)|(?<=late\s)|(?<=mid-))May\b"
    r"|\b(?i:(?:last|next|this|early|late)\s)?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    r"(?:\s(?i:morning|afternoon|evening|night))?\b")
_DATE_RELATIVE = re.compile(
    r"(?i)\b(?:yesterday|today|tonight|tomorrow|(?:last|next|this|past|(?:earlier|later)\s(?:this|that)|"
    r"the\s(?:previous|following))\s(?:week|weekend|month|year|spring|summer|autumn|fall|winter|night|morning|evening|"
    rf"afternoon|decade|season|quarter)|(?:the\s)?(?:first|second|third|fourth)\squarter|(?:{_UNITS}|{_TENS}|a|an|"
    rf"several|a\sfew|a\scouple\sof)\s{_UNIT_OF_TIME}\sago)\b")
_DURATION_UNIT = r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centuries|century)"
_ABOUT = r"(?:(?:almost|nearly|about|around|roughly|some|over|under|(?:just\s)?(?:more|less|fewer)\sthan|at\sleast|up\sto)\s)?"
# a length of time: "almost four hours", "nearly a year", "a seven-year (period)", "18 months"; "three years ago" is a date
_DURATION = re.compile(rf"(?i)\b{_ABOUT}(?:{DIGITS}|{WORD_NUMBER}|a|an|several|a\sfew|a\scouple\sof|many)[\s-]"
                       rf"(?:and[\s-]a[\s-]half[\s-])?{_DURATION_UNIT}\b(?![\s-]+ago\b)")
_DATE_JOIN = re.compile(r"[,\s]{1,3}")
_WEEKDAY_END = re.compile(r"(?i)(?:day|morning|afternoon|evening|night)$")
NUMBER_WORDS = word_set(f"{_UNITS} {_TENS} {_SCALE} dozen dozens hundreds thousands millions billions".replace("|", " "))
_PRONOUN_ONE = re.compile(r"(?i)(?:\b(?:no|each|every|any|the|this|that)\s)$")
_DIGIT_RUN = re.compile(r"\d+")
_START = re.compile(r"[\w$£€¥₹'’]+")
_WORDS = re.compile(r"\w+(?:['’]\w+)*")
_IN_WORD = frozenset("_'’")
_IN_TOKEN = frozenset("_'’$£€¥₹")


def _inside_word(text: str, at: int, joiners: frozenset[str] = _IN_WORD) -> bool:
    return 0 <= at < len(text) and (text[at].isalnum() or text[at] in joiners)


@dataclass(frozen=True)
class Hints:
    """A text lower-cased (same offsets), the set of its words and the starts of its digit runs. Each pattern
    is tried only at the token starts shortly before a digit or one of its key words, so long texts stay fast."""

    lower: str
    vocabulary: frozenset[str]
    digits: tuple[int, ...]

    def positions(self, words: frozenset[str]) -> list[tuple[int, int, str]]:
        """Where the words of ``words`` occur as whole words, in order: (start, end, word)."""
        out = []
        for word in self.vocabulary & words:
            at = self.lower.find(word)
            while at >= 0:
                if not _inside_word(self.lower, at - 1) and not _inside_word(self.lower, at + len(word)):
                    out.append((at, at + len(word), word))
                at = self.lower.find(word, at + 1)
        return sorted(out)

    def near(self, words: frozenset[str]) -> tuple[int, ...]:
        return tuple(p[0] for p in self.positions(words))

    def starts(self, at: int, reach: int) -> list[int]:
        """The token starts from ``reach`` characters before ``at`` up to ``at``."""
        found = (m.start() for m in _START.finditer(self.lower, max(0, at - reach), at + 1))
        return [p for p in found if not _inside_word(self.lower, p - 1, _IN_TOKEN)]


@lru_cache(maxsize=512)
def hints(text: str) -> Hints:
    """The lower-cased text, its words and its digit positions (cached)."""
    lower = text.lower()
    if len(lower) != len(text):  # a letter whose lower case is longer ("İ"): keep it, to keep the offsets
        lower = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return Hints(lower, frozenset(_WORDS.findall(lower)), tuple(m.start() for m in _DIGIT_RUN.finditer(text)))


def _near(sentence: str, pattern: re.Pattern[str], anchors: tuple[int, ...], reach: int) -> list[tuple[int, int]]:
    """The matches of ``pattern`` that start at a token start at most ``reach`` characters before an anchor
    (the longest lead-in of the pattern before its digit or key word, as "the fourth quarter of " before a year)."""
    h = hints(sentence)
    out: list[tuple[int, int]] = []
    done = 0
    for at in anchors:
        if at < done:
            continue
        for pos in h.starts(at, reach):
            if pos >= done and (m := pattern.match(sentence, pos)) and m.end() > pos:
                out.append((pos, m.end()))
                done = m.end()
    return out


def _scan(sentence: str, kind: AnswerKind, *found: list[tuple[int, int]]) -> list[Span]:
    """Matches as spans; of overlapping matches the earliest, then the longest, is kept."""
    out: list[Span] = []
    for start, neg_end in sorted((a, -b) for group in found for a, b in group):
        if not out or start >= out[-1].end:
            out.append(Span(start, -neg_end, sentence[start:-neg_end], kind))
    return out


def _outside(spans: list[Span] | tuple[Span, ...], *others: tuple[Span, ...]) -> list[Span]:
    taken = [o for group in others for o in group]
    return [s for s in spans if not any(s.start < o.end and o.start < s.end for o in taken)]


@lru_cache(maxsize=1024)
def _spans(sentence: str, kind: AnswerKind) -> tuple[Span, ...]:
    h = hints(sentence)
    if kind == "money":
        return tuple(_scan(sentence, "money", _near(sentence, _MONEY_DIGITS, h.digits, 4),
                           _near(sentence, _MONEY_WORDS, h.near(CURRENCY_WORDS), 28)))
    if kind == "share":
        spelled = h.near(SHARE_WORDS | (NUMBER_WORDS if h.vocabulary & {"in", "out"} else frozenset()))
        return tuple(_scan(sentence, "share", _near(sentence, _SHARE_DIGITS, h.digits, 0),
                           _near(sentence, _SHARE_WORDS, spelled, 16)))
    if kind == "date":
        found = _outside(_scan(sentence, "date", _near(sentence, _DATE_DIGITS, h.digits, 28),
                               _near(sentence, _DATE_NAMES, h.near(MONTHS | WEEKDAYS), 8),
                               _near(sentence, _DATE_RELATIVE, h.near(RELATIVE_DATE_WORDS), 20)), _spans(sentence, "money"))
        out: list[Span] = []
        for s in found:  # "Tuesday, Sept. 27, 2016" is one date
            if out and _DATE_JOIN.fullmatch(sentence[out[-1].end:s.start]) and _WEEKDAY_END.search(out[-1].text):
                s = Span(out[-1].start, s.end, sentence[out[-1].start:s.end], "date")
                out.pop()
            out.append(s)
        return tuple(out)
    if kind == "number":
        found = _outside(_scan(sentence, "number", _near(sentence, _NUMBER_DIGITS, h.digits, 8),
                               _near(sentence, _NUMBER_WORDS, h.near(NUMBER_WORDS), 8)),
                         _spans(sentence, "date"), _spans(sentence, "money"), _spans(sentence, "share"))
        return tuple(s for s in found if s.text.lower() != "one" or not (
            sentence[s.end:].startswith((" of ", " another")) or _PRONOUN_ONE.search(sentence[:s.start])))
    if kind == "reason":
        return tuple(_reasons(sentence, h.near(REASON_WORDS)))
    if kind == "duration":
        return tuple(_outside(_scan(sentence, "duration", [m.span() for m in _DURATION.finditer(sentence)]),
                              _spans(sentence, "date")))
    return tuple(r for r in _names(sentence) if kind == "name" or r.kind in (kind, "name"))


@lru_cache(maxsize=1024)
def _names(sentence: str) -> tuple[Span, ...]:
    """The capitalised names of ``sentence``, found once for every named kind."""
    return tuple(Span(s, e, t, k) for s, e, t, k in name_runs(sentence) if k is not None)


# ---- reason clauses ----------------------------------------------------------------------------

_REASON = re.compile(r"\b(?i:because(?:\sof)?|due\sto|owing\sto|thanks\sto|as\sa\sresult\sof|in\sorder\sto|so\sthat|"
                     r"in\sresponse\sto|in\sretaliation\sfor|in\sprotest\s(?:at|of|against|over)|on\sthe\sgrounds\sthat|"
                     r"for\sfear\s(?:of|that)|citing|saying|amidst|amid|after|over|since|as)\b")
_CLAUSE_END = re.compile(r"[;:!?()\[\]—–\"“”]|\.(?=\s|$)|,\s+(?=(?:said|says|according|but|while|although|though|"
                         r"which|who|whereas|he|she|they|it|and|officials|police)\b|(?:[\w'’-]+\s+){1,3}"
                         r"(?:said|says|told|reported|added)\b)")
_FIRST_CLAUSE_END = re.compile(r"[,;:!?()\[\]—–\"“”]|\.(?=\s|$)")
_REPORTING = re.compile(r"\b(?:said|says|reported|noted|put it|expected|planned|announced)$")


def _weak_reason_ok(word: str, sentence: str, start: int, end: int) -> bool:
    """Whether an ambiguous connective (as, since, after, over, amid) opens a reason here."""
    nxt = [w.strip(",.;:\"“”'").lower() for w in sentence[end:].split()[:2]] + ["", ""]
    before = sentence[:start].rstrip()
    prev = before.split()[-1].lower().strip(",") if before else ""
    if nxt[0][:1].isdigit() or nxt[0] in MONTHS or nxt[0] in WEEKDAYS:
        return False
    if word == "as":
        return (not before or before.endswith(",")) and nxt[0] in PRONOUNS | word_set("the its his her their")
    if word == "saying":  # "…, saying it would raise taxes"
        return before.endswith(",")
    if word == "since":
        return nxt[0] in PRONOUNS
    if word == "over":
        return prev not in PARTICLE_VERBS and nxt[0] in OVER_REASON_STARTS and nxt[1] not in TIME_WORDS
    return nxt[0] not in TIME_WORDS and nxt[1] not in ("ago",)


def _reasons(sentence: str, anchors: tuple[int, ...]) -> list[Span]:
    out = []
    for start, end in _near(sentence, _REASON, anchors, 8):
        m = _REASON.match(sentence, start, end)
        if m is None:
            continue
        word = m.group().lower()
        if word in WEAK_REASONS and not _weak_reason_ok(word, sentence, m.start(), m.end()):
            continue
        opening = not sentence[:m.start()].strip(" \"“'‘(") or sentence[:m.start()].rstrip()[-1:] in "\"“(—"
        stop = (_FIRST_CLAUSE_END if opening else _CLAUSE_END).search(sentence, m.end())
        end = stop.start() if stop else len(sentence)
        text = sentence[m.start():end].rstrip(" ,.;:")
        if len(text.split()) > len(m.group().split()) and not (word == "as" and _REPORTING.search(text)):
            out.append(Span(m.start(), m.start() + len(text), text, "reason"))
    return out


def find_spans(sentence: str, kind: AnswerKind) -> list[Span]:
    """Candidate answers of ``kind`` in ``sentence``, in order. For person, organisation and place,
    runs of that class and unclassified names; for "name", every capitalised name. Dates, numbers,
    money amounts and shares never overlap one another: a year inside an amount is no date, and a
    number inside a date, amount or share is no number."""
    return list(_spans(sentence, kind))


@lru_cache(maxsize=65536)
def stem(word: str) -> str | None:
    """The stemmed content term of one word, or ``None`` for a stop word."""
    found = terms(word)
    return found[0] if found else None
