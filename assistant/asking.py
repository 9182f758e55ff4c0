"""What kind of figure a question asks for, and whether a sentence has one."""

from __future__ import annotations

import re

# Questions that ask for a quantity, a share, a price or a date can only be answered by a sentence that has one.
_ASKS_NUMBER = re.compile(
    r"\b(how many|how much|what share|what percentage|what percent|what rate|how long|how old|what price|"
    r"how large|final tally|by how many|what age|what total)\b", re.I)
_ASKS_DATE = re.compile(r"\b(what date|on what day|which day|when did|when was|when is|what year|which year|when will)\b", re.I)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|million|"
    r"billion|half|third|quarter)\b", re.I)
_DATE = re.compile(
    r"\b(19|20)\d\d\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d|"
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|last week|next week)\b", re.I)
_ASKS_SHARE = re.compile(r"\b(what share|what percentage|what percent|what proportion|what fraction)\b", re.I)
_SHARE = re.compile(r"%|\bper ?cent\b|\b(half|third|quarter|fifth|majority|one in|out of)\b", re.I)
_ASKS_PRICE = re.compile(
    r"\b(what price|how much money|what did it cost|price tag|"
    r"how much\b(?:\W+\w+){0,8}?\W+(?:cost|costs|pay|paid|spend|spent|worth|charge|charged|raise|raised|earn|earned))\b", re.I)
_MONEY = re.compile(r"[$€£]|\b(dollars?|euros?|pounds?|cents?)\b", re.I)
_FIGURE_CHECKS = (  # (asks for, has one, what it is called); the first that asks decides
    (_ASKS_SHARE, _SHARE, "share or percentage"),
    (_ASKS_PRICE, _MONEY, "price"),
    (_ASKS_NUMBER, _NUMBER, "figure"),
    (_ASKS_DATE, _DATE, "date"),
)


def wanted_figure(question: str) -> tuple[re.Pattern[str], str] | None:
    """(a pattern a sentence answering it must match, what that figure is called), or None."""
    for asks, has, kind in _FIGURE_CHECKS:
        if asks.search(question):
            return has, kind
    return None
