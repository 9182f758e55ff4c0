"""What a question asks: the kind of figure it wants, its parts, the names and publishers it holds,
and whether it leans on the conversation. Pure text functions: nothing here reads the index."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .lexical import terms
from .mentions import find_spans
from .records import Article, Hit
from .spans import AnswerKind, asked_kind
from .vocabulary import DEMONYMS, name_runs

FIGURE_NAMES: dict[str, str] = {
    "share": "share or percentage", "money": "amount of money", "number": "figure", "date": "date", "duration": "length of time",
}
# what else answers a question asking for a kind of quantity: "how much of the budget" is answered by an amount
# or by a share, "how many of the voters" by a count or by a share
_ALSO_ANSWERS: dict[str, tuple[AnswerKind, ...]] = {
    "money": ("money", "share"), "share": ("share", "money"), "number": ("number", "share"), "duration": ("duration", "number"),
}


@dataclass(frozen=True)
class Figure:
    """The kind of figure a question asks for; only a sentence that states one can answer it."""

    kind: AnswerKind
    name: str  # what the reader is told is missing ("share or percentage")

    def search(self, text: str) -> bool:
        """Does ``text`` state a figure of this kind (or one that also answers it, see ``_ALSO_ANSWERS``)?"""
        return any(find_spans(text, k) for k in _ALSO_ANSWERS.get(self.kind, (self.kind,)))


def wanted_figure(question: str) -> Figure | None:
    """The figure a question asks for (a number, share, amount of money or date), or None."""
    kind = asked_kind(question)
    return Figure(kind, FIGURE_NAMES[kind]) if kind in FIGURE_NAMES else None


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
    """Names in the question (capitalised words after its first) that none of ``hits``' articles mention.

    A nationality ("American", "Syrian") is not counted: articles often name the country instead ("the
    U.S. threat"). An abbreviation counts as mentioned written with or without its dots ("US", "U.S.")."""
    words = re.findall(r"[^\W\d_][\w'’.-]*", question)
    named: dict[str, str] = {}
    initials: dict[str, str] = {}
    for word in words[1:]:
        if not word[0].isupper():
            continue
        bare = word.rstrip(".").removesuffix("'s").removesuffix("’s")
        if bare.lower() in DEMONYMS:
            continue
        letters = bare.replace(".", "")
        if letters.isalpha() and letters.isupper() and len(letters) <= 4:
            initials.setdefault(letters, bare)
            continue
        for stem in terms(word):
            named.setdefault(stem, bare)
    if not (named or initials) or not hits:
        return []
    mentioned: set[str] = set()
    for h in hits:
        mentioned |= article_terms(h.article)
    missing = [word for stem, word in named.items() if stem not in mentioned]
    texts = [f"{h.article.title}\n{h.article.body}" for h in hits] if initials else []
    for letters, word in initials.items():
        written = re.compile(r"(?<![\w.])" + r"\.?".join(letters) + r"\.?(?!\w)")
        if not any(written.search(text) for text in texts):
            missing.append(word)
    return missing


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


# ---- publishers named as the source -----------------------------------------------------------

_REPORTING = re.compile(
    r"^(?:\W+\w+){0,2}?\W+(?:report|reports|reported|reporting|say|says|said|write|writes|wrote|written|claim|claims|"
    r"claimed|publish|publishes|published|tell|tells|told|describe|describes|described|quote|quotes|quoted|note|notes|noted)\b",
    re.I,
)
_SOURCE_BEFORE = re.compile(r"\b(?:according to|reported by|in|from|by)\W+(?:the\W+)?$", re.I)
_SUFFIXES = ("com", "org", "net", "co", "uk", "us", "info", "news", "gov", "edu", "io", "ca", "au", "de", "fr", "wordpress", "blogspot")


def publisher_key(name: str) -> str:
    """A publisher's name reduced for matching: "The Washington Post" → "washingtonpost",
    "www.newsmax.com" → "newsmax", "willyloman.wordpress.com" → "willyloman"."""
    low = name.strip().lower()
    low = re.sub(r"^[a-z]+://", "", low).removeprefix("www.")
    if re.fullmatch(r"[\w-]+(?:\.[\w-]+)+/?", low):  # a domain: drop its public suffix
        labels = low.rstrip("/").split(".")
        while len(labels) > 1 and labels[-1] in _SUFFIXES:
            labels.pop()
        low = ".".join(labels)
    low = low.removeprefix("the ")
    return re.sub(r"[\W_]+", "", low)


def publishers_named(question: str, publishers: Sequence[str]) -> tuple[str, ...]:
    """The archive's publishers that ``question`` names as its source: next to a reporting verb
    ("what did The Washington Post report", "Newsmax says") or after "according to", "in", "from"."""
    keys: dict[str, list[str]] = {}
    for p in publishers:
        if len(key := publisher_key(p)) >= 4:
            keys.setdefault(key, []).append(p)
    words = list(re.finditer(r"[\w'’.&-]+", question))
    named: list[str] = []
    for i in range(len(words)):
        for j in range(i + 1, min(i + 6, len(words)) + 1):
            joined = re.sub(r"[\W_]+", "", "".join(w.group() for w in words[i:j]).lower().removesuffix("'s").removesuffix("’s"))
            joined = joined.removeprefix("the") if words[i].group().lower() == "the" else joined
            if joined not in keys:
                continue
            start, end = words[i].start(), words[j - 1].end()
            if _REPORTING.match(question[end:]) or _SOURCE_BEFORE.search(question[:start]):
                named.extend(keys[joined])
    return tuple(dict.fromkeys(named))


# ---- who said it ---------------------------------------------------------------------------------

_SAID_BY = re.compile(
    r"(?i)\bwhat\s+(?:did|does|do|has|have|had|will|would)\s+(?P<who>.+?)\s+"
    r"(?:say|tell|warn|argue|claim|write|tweet|add|predict|call|describe|think|believe)\b")
_SPEECH = re.compile(r"(?i)\b(?:said|says|say|saying|told|tells|warned|warns|wrote|writes|tweeted|added|adds|argued|argues|"
                     r"stated|claimed|claims|according\s+to|called|calls|described|believes|thinks|insisted|noted|asked)\b|[“”\"]")


def speaker(question: str) -> str | None:
    """The person or body a "what did X say / tell / warn … ?" question asks about, as a name ("Phil Berger"),
    or None (no such question, or X is not named: "what did he say?")."""
    m = _SAID_BY.search(question)
    if m is None:
        return None
    runs = [r for r in name_runs(m.group("who")) if r[3] is not None]
    return runs[-1][2] if runs else None


def speaks(name: str, sentence: str, before: str) -> bool:
    """Whether ``sentence`` (with the text ``before`` it, where a pronoun's name may stand) gives words of ``name``:
    the name's last word is there and the sentence reports speech (a speech verb or a quotation)."""
    last = name.split()[-1].lower()
    near = f"{before} {sentence}".lower()
    return re.search(rf"(?<!\w){re.escape(last)}(?!\w)", near) is not None and _SPEECH.search(sentence) is not None
