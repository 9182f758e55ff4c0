"""Periods named in a question ("last week", "in September 2016", "since March") → a date range.

Relative periods are resolved against the archive's newest publication date, not the wall clock:
an archive of 2016 news asked about "last week" means the last week of that archive. The period
found is removed from the search text and stated back to the user.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTHS["sept"] = 9
_MONTH = r"(?P<{n}>january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_DAY = r"(?P<{n}>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<{n}>(?:19|20)\d\d)"


def _date_pattern(tag: str) -> str:
    """'28 September 2016', 'September 28, 2016', 'Sept 2016', 'September', '2016-09-28', '2016'."""
    m, d, y = (f"{tag}_{k}" for k in ("m", "d", "y"))
    return (
        rf"(?:(?P<{tag}_iso>\d{{4}}-\d\d-\d\d)"
        rf"|{_DAY.format(n=d)}\s+{_MONTH.format(n=m)}(?:,?\s+{_YEAR.format(n=y)})?"
        rf"|{_MONTH.format(n=m + '2')}\s+{_DAY.format(n=d + '2')}(?:,\s*|\s+){_YEAR.format(n=y + '2')}"
        rf"|{_MONTH.format(n=m + '3')}\s+{_DAY.format(n=d + '3')}\b"
        rf"|{_MONTH.format(n=m + '4')}(?:\s+{_YEAR.format(n=y + '4')})?"
        rf"|{_YEAR.format(n=y + '5')})"
    )


@dataclass(frozen=True)
class Period:
    since: date | None
    until: date | None
    label: str  # "articles from 19–25 Sept 2016"
    phrase: str  # the words of the question that named it
    latest: bool = False  # "latest", "most recent": prefer the newest articles
    unapplied: bool = False  # named, but the archive has no dated article to apply it to

    def remove_from(self, question: str) -> str:
        if not self.phrase:
            return question
        cleaned = question.replace(self.phrase, " ")
        return re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s{2,}", " ", cleaned)).strip()


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _before_or_on(ref: date, month: int, day: int | None = None) -> int:
    """The year that makes (month, day) the most recent such date on or before ``ref``."""
    return ref.year if (month, day or 1) <= (ref.month, ref.day) else ref.year - 1


def _resolve(match: re.Match[str], tag: str, ref: date) -> tuple[date, date] | None:
    """The span of days named by one date expression."""
    g = {k.removeprefix(tag + "_"): v for k, v in match.groupdict().items() if k.startswith(tag + "_") and v}
    try:
        if "iso" in g:
            d = date.fromisoformat(g["iso"])
            return d, d
        for suffix in ("", "2", "3"):
            if "m" + suffix in g and "d" + suffix in g:
                month, day = MONTHS[g["m" + suffix].lower()], int(g["d" + suffix])
                year = int(g["y" + suffix]) if g.get("y" + suffix) else _before_or_on(ref, month, day)
                d = date(year, month, day)
                return d, d
        if "m4" in g:
            month = MONTHS[g["m4"].lower()]
            year = int(g["y4"]) if g.get("y4") else _before_or_on(ref, month)
            return date(year, month, 1), _month_end(year, month)
        if "y5" in g:
            year = int(g["y5"])
            return date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        return None
    return None


def format_range(since: date | None, until: date | None) -> str:
    def d(x: date, year: bool = True) -> str:
        month = "Sept" if x.month == 9 else calendar.month_abbr[x.month]
        return f"{x.day} {month}" + (f" {x.year}" if year else "")

    if since and until:
        if since == until:
            return f"articles from {d(since)}"
        if since.year == until.year and since.month == until.month:
            month = "Sept" if since.month == 9 else calendar.month_abbr[since.month]
            return f"articles from {since.day}–{until.day} {month} {since.year}"
        return f"articles from {d(since, since.year != until.year)} to {d(until)}"
    if since:
        return f"articles from {d(since)} on"
    if until:
        return f"articles up to {d(until)}"
    return "all articles"


_UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30, "year": 365, "years": 365}
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10, "a few": 3, "few": 3}


def find_period(question: str, newest: date | None) -> Period | None:
    """The period a question names, resolved against ``newest`` (the archive's newest date)."""
    text = question.lower()
    latest = re.search(r"\b(latest|most recent|newest|recently|lately)\b", text)
    rules = [_relative, _range, _since_until, _single]
    for rule in rules:
        found = rule(question, text, newest or date.today())
        if found is not None:
            # without a dated article the period cannot be applied: every article is searched, and said so
            return found if newest is not None else Period(None, None, found.phrase, found.phrase, unapplied=True)
    if latest:
        return Period(None, None, "the most recent articles first", "", latest=True)
    return None


def _relative(question: str, text: str, ref: date) -> Period | None:
    m = re.search(r"\b(today|yesterday|this week|last week|past week|this month|last month|this year|last year)\b", text)
    if m:
        word = m.group(1)
        monday = ref - timedelta(days=ref.weekday())
        first = ref.replace(day=1)
        prev_month_end = first - timedelta(days=1)
        spans = {
            "today": (ref, ref),
            "yesterday": (ref - timedelta(days=1), ref - timedelta(days=1)),
            "this week": (monday, ref),
            "last week": (monday - timedelta(days=7), monday - timedelta(days=1)),
            "past week": (ref - timedelta(days=6), ref),
            "this month": (first, ref),
            "last month": (prev_month_end.replace(day=1), prev_month_end),
            "this year": (date(ref.year, 1, 1), ref),
            "last year": (date(ref.year - 1, 1, 1), date(ref.year - 1, 12, 31)),
        }
        since, until = spans[word]
        return Period(since, until, format_range(since, until), question[m.start() : m.end()])
    m = re.search(r"\b(?:in the |over the |during the )?(?:past|last)\s+(\d+|two|three|four|five|six|seven|ten|a few|few)\s+(days?|weeks?|months?|years?)\b", text)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _NUMBERS[m.group(1)]
        since = ref - timedelta(days=n * _UNITS[m.group(2)] - 1)
        return Period(since, ref, format_range(since, ref), question[m.start() : m.end()])
    return None


def _range(question: str, text: str, ref: date) -> Period | None:
    pattern = rf"\b(?:between|from)\s+{_date_pattern('a')}\s+(?:and|to|until|through|-|–)\s+{_date_pattern('b')}"
    m = re.search(pattern, text)
    if not m:
        return None
    a, b = _resolve(m, "a", ref), _resolve(m, "b", ref)
    if not a or not b:
        return None
    return Period(a[0], b[1], format_range(a[0], b[1]), question[m.start() : m.end()])


def _since_until(question: str, text: str, ref: date) -> Period | None:
    m = re.search(rf"\b(since|after|from|before|until|till|by)\s+{_date_pattern('a')}", text)
    if not m:
        return None
    span = _resolve(m, "a", ref)
    if not span:
        return None
    word = m.group(1)
    if word in ("since", "from"):
        since, until = span[0], None
    elif word == "after":
        since, until = span[1] + timedelta(days=1), None
    elif word == "before":
        since, until = None, span[0] - timedelta(days=1)
    else:
        since, until = None, span[1]
    return Period(since, until, format_range(since, until), question[m.start() : m.end()])


def _single(question: str, text: str, ref: date) -> Period | None:
    m = re.search(rf"\b(?:in|on|during|of)\s+{_date_pattern('a')}", text)
    if not m:
        return None
    span = _resolve(m, "a", ref)
    if not span:
        return None
    return Period(span[0], span[1], format_range(*span), question[m.start() : m.end()])
