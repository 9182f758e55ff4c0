"""What a question asks: the kind of figure it wants, its parts, the names it holds, and whether
it leans on the conversation. Pure text functions: nothing here reads the index."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from .lexical import terms
from .records import Article, Hit

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


_SECOND_QUESTION = re.compile(
    r",?\s+and\s+(?=(?:what|which|who|whom|whose|how|when|where|why|(?:in|on|at|by|for|from) (?:what|which|whom))\b)", re.I
)


def question_parts(question: str) -> list[str]:
    """A question that asks two things ("Who was nominated, and which union endorsed him?") split
    into its parts; any other question is one part."""
    parts = [p.strip(" ,") for p in _SECOND_QUESTION.split(question)]
    if len(parts) < 2 or any(len(p.split()) < 3 for p in parts):
        return [question]
    return parts


# ---- names the question holds ---------------------------------------------------------------


def missing_names(question: str, hits: tuple[Hit, ...]) -> list[str]:
    """Names in the question (capitalised words after its first) that none of ``hits``' articles mention."""
    words = re.findall(r"[^\W\d_][\w'’.-]*", question)
    named: dict[str, str] = {}
    for word in words[1:]:
        if word[0].isupper():
            for stem in terms(word):
                named.setdefault(stem, word.rstrip(".").removesuffix("'s").removesuffix("’s"))
    if not named or not hits:
        return []
    mentioned: set[str] = set()
    for h in hits:
        mentioned |= article_terms(h.article)
    return [word for stem, word in named.items() if stem not in mentioned]


@lru_cache(maxsize=256)
def article_terms(article: Article) -> frozenset[str]:
    """Every term of an article's title, publisher and text (cached: the same stories recur)."""
    return frozenset(terms(f"{article.title}\n{article.publisher or ''}\n{article.body}"))


def join_names(names: list[str]) -> str:
    quoted = [f"“{n}”" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


# ---- follow-ups ------------------------------------------------------------------------------


_PRONOUN = re.compile(r"\b(it|its|they|them|their|theirs|he|him|his|she|her|hers|the same|the former|the latter)\b", re.I)
_DEICTIC = re.compile(r"\b(that|this|those|these)\s+(?!is\b|was\b|are\b|were\b)[a-z]+", re.I)
_THAT_STORY = re.compile(  # the conversation's own subject, whatever names the question also holds
    r"\b(that|this|the same)\s+(story|article|report|piece|interview|editorial|column|op-ed|paper|poll|survey|speech|letter)\b",
    re.I,
)
_OPENERS = ("and ", "and,", "what about", "how about", "also", "but ", "so ", "then ", "why?", "why not", "who else", "what else")


def is_dependent(question: str) -> bool:
    """Does the question lean on the conversation ("who announced it?", "and what did Russia say?")?"""
    q = question.strip().lower()
    if q.startswith(_OPENERS) or _PRONOUN.search(q) or _THAT_STORY.search(q) or len(terms(question)) <= 2:
        return True
    return bool(_DEICTIC.search(q)) and not re.search(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]+", question.strip())


def standalone_query(history: Sequence[str], question: str) -> str:
    """The question made standalone by prefixing the turns it depends on (offline, no LLM)."""
    if not history or not is_dependent(question):
        return question.strip()
    context: list[str] = []
    for turn in reversed(history):
        context.insert(0, turn.strip())
        if not is_dependent(turn):
            break
    return " ".join([*context, question.strip()])
