"""The one verifier every quote passes before it is shown.

A quote is *verified* when the article body holds exactly its text at its offsets; *repaired*
when the producer's text differs from the body only by typography or spacing (curly vs straight
quote marks, dash forms, the ellipsis character, runs of whitespace, invisible characters) or its
offsets were missing or wrong — it is then relocated and its text replaced by the body's exact
text; otherwise *rejected*, and a rejected quote is never shown. An ellipsis that joins
non-adjacent text is accepted only when every part verifies, in order, and it is shown with
the ellipsis.

The LLM writer's quotes must also stand on their own (``standalone_problem``: five words or a
whole sentence, on word boundaries, ellipsis parts close together), and a sentence of its prose
is shown only when its quotes carry what it says (``support``). The offline answer quotes whole
evidence sentences and does not pass through these two.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .chunking import sentence_spans
from .lexical import stopwords, terms
from .records import Article, Quote, Verification

_FOLD = {
    **dict.fromkeys("‘’‚‛′`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    "…": "...",
}
_ZERO_WIDTH = set("\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad")
_ELLIPSIS = re.compile(r"\s*(?:\.\s?\.\s?\.|…)\s*")
MIN_PART_CHARS = 12  # an ellipsis part shorter than this proves nothing


@dataclass(frozen=True)
class QuoteCheck:
    status: Verification
    parts: tuple[Quote, ...]  # one part, or several joined by an ellipsis; empty when rejected
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "rejected"

    @property
    def text(self) -> str:
        return " … ".join(q.text for q in self.parts)


def fold(text: str) -> tuple[str, list[int]]:
    """Typography-folded text and, for each folded character, its offset in ``text``."""
    out: list[str] = []
    where: list[int] = []
    pending_space = False
    for i, ch in enumerate(text):
        if ch in _ZERO_WIDTH:
            continue
        if ch.isspace():
            pending_space = bool(out)
            continue
        if pending_space:
            out.append(" ")
            where.append(i - 1)
            pending_space = False
        rep = _FOLD.get(ch) or unicodedata.normalize("NFKC", ch)
        for r in rep:
            out.append(r)
            where.append(i)
    return "".join(out), where


def verify(article: Article, text: str, start: int | None = None, end: int | None = None, source: int = 0) -> QuoteCheck:
    """Check ``text`` against ``article.body``; see the module docstring for the three outcomes."""
    body = article.body
    if start is not None and end is not None and 0 <= start < end <= len(body) and body[start:end] == text and text.strip():
        return QuoteCheck("verified", (Quote(article.id, start, end, text, source, "verified"),))
    parts = [p for p in _ELLIPSIS.split(text.strip()) if p.strip()]
    if len(parts) > 1 and not _exact_or_folded(body, text, 0):
        return _verify_parts(article, parts, source)
    found = _exact_or_folded(body, text, start or 0)
    if found is None:
        return QuoteCheck("rejected", (), "not found in the article text")
    s, e = found
    exact_text = body[s:e] == text
    status: Verification = "verified" if exact_text and start is None and end is None else "repaired"
    return QuoteCheck(status, (Quote(article.id, s, e, body[s:e], source, status),))


def _verify_parts(article: Article, parts: list[str], source: int) -> QuoteCheck:
    quotes: list[Quote] = []
    position = 0
    for part in parts:
        if len(part.strip()) < MIN_PART_CHARS:
            return QuoteCheck("rejected", (), "an ellipsis part is too short to verify")
        found = _exact_or_folded(article.body, part, position, after_only=True)
        if found is None:
            return QuoteCheck("rejected", (), "a part joined by an ellipsis is not in the article text")
        s, e = found
        quotes.append(Quote(article.id, s, e, article.body[s:e], source, "repaired"))
        position = e
    return QuoteCheck("repaired", tuple(quotes))


def _exact_or_folded(body: str, text: str, hint: int, after_only: bool = False) -> tuple[int, int] | None:
    """Offsets of ``text`` in ``body``: the exact match at or after ``hint`` (else anywhere, unless
    ``after_only``), else a typography-folded match under the same rule."""
    needle = text.strip()
    if not needle:
        return None
    at = body.find(needle, hint)
    if at < 0 and not after_only:
        at = body.find(needle)
    if at >= 0:
        return at, at + len(needle)
    folded_body, where = fold(body)
    folded_needle, _ = fold(needle)
    if not folded_needle:
        return None
    folded_hint = next((i for i, w in enumerate(where) if w >= hint), len(where))
    at = folded_body.find(folded_needle, folded_hint)
    if at < 0 and not after_only:
        at = folded_body.find(folded_needle)
    if at < 0:
        return None
    s, e = where[at], where[at + len(folded_needle) - 1] + 1
    return s, e


# ---- what a quote written by the LLM must be, and what the words around it may add ---------------

MIN_QUOTE_WORDS = 5  # a shorter quote (or ellipsis part) stands only as a whole sentence of the article
MAX_PART_GAP = 2  # an ellipsis part begins at most this many sentences after the previous part ends
MAX_UNSUPPORTED_WORDS = 2  # content words of a sentence's prose that nothing quoted holds, at most …
MAX_UNSUPPORTED_SHARE = 0.2  # … and at most this share of the sentence's content words

Sentences = Sequence[tuple[int, int]]


@lru_cache(maxsize=64)
def article_sentences(body: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of every sentence of an article body, as the index splits them."""
    return tuple((span.start, span.end) for span in sentence_spans(body))

STANDALONE_REASONS = ("cut inside a word", "shorter than five words", "joins parts too far apart")

_TOKEN = re.compile(r"[^\W_]+(?:['’.,][^\W_]+)*")
_JOINERS = "'’-‐‑"
_MEANINGFUL = {  # stop words that change what a sentence claims: never free in the model's prose
    "no", "nor", "not", "never", "none", "nothing", "neither", "nobody", "all", "any", "each", "both", "some",
    "few", "many", "much", "more", "most", "only", "same", "before", "after", "above", "below", "against", "until",
    "again", "once", "further",
}
_ATTRIBUTION = (  # who says it and where: what connects a quote to its source
    "according say says said saying tell tells told report reports reported reporting write writes wrote written "
    "state states stated add adds added note notes noted quote quotes quoted cite cites cited claim claims claimed "
    "announce announced explain explained describe described ask asked reply replied respond responded "
    "article articles passage passages source sources story stories paper newspaper publish published statement "
    "official officials spokesman spokeswoman spokesperson authorities"
)
_RUN_GLUE = {"of", "and", "for", "the"}


def splits_word(body: str, i: int) -> bool:
    """Whether offset ``i`` of ``body`` falls inside a word (letters or digits on both sides, or
    across an apostrophe or hyphen inside a word)."""
    if i <= 0 or i >= len(body):
        return False
    before, after = body[i - 1], body[i]
    if before.isalnum() and after.isalnum():
        return True
    if before.isalnum() and after in _JOINERS:
        return i + 1 < len(body) and body[i + 1].isalnum()
    return after.isalnum() and before in _JOINERS and i >= 2 and body[i - 2].isalnum()


def word_count(text: str) -> int:
    """Words as a reader counts them: runs between spaces holding a letter or a digit."""
    return sum(any(c.isalnum() for c in t) for t in text.split())


def sentence_of(sentences: Sentences, offset: int) -> int:
    """Index of the sentence holding ``offset`` (the last one starting at or before it)."""
    return max(bisect_right([s for s, _ in sentences], offset) - 1, 0)


def _whole_sentence(body: str, quote: Quote, sentences: Sentences) -> bool:
    s, e = sentences[sentence_of(sentences, quote.start)] if sentences else (0, len(body))
    return s <= quote.start and quote.end <= e and not any(c.isalnum() for c in body[s : quote.start] + body[quote.end : e])


def standalone_problem(body: str, check: QuoteCheck) -> str:
    """Why a verified quote cannot stand in an LLM answer, or "" when it can: every part must start
    and end on word boundaries and hold at least ``MIN_QUOTE_WORDS`` words (or be a whole sentence
    of the article), and each ellipsis part must begin within ``MAX_PART_GAP`` sentences of the
    end of the part before it."""
    sentences = article_sentences(body)
    for i, q in enumerate(check.parts):
        if splits_word(body, q.start) or splits_word(body, q.end):
            return STANDALONE_REASONS[0]
        if word_count(q.text) < MIN_QUOTE_WORDS and not _whole_sentence(body, q, sentences):
            return STANDALONE_REASONS[1]
        if i and sentence_of(sentences, q.start) - sentence_of(sentences, check.parts[i - 1].end - 1) > MAX_PART_GAP:
            return STANDALONE_REASONS[2]
    return ""


def context_of(body: str, check: QuoteCheck) -> str:
    """The article sentences a quote is taken from."""
    sentences = article_sentences(body)
    if not sentences or not check.parts:
        return " ".join(q.text for q in check.parts)
    first, last = sentence_of(sentences, check.parts[0].start), sentence_of(sentences, check.parts[-1].end - 1)
    return body[sentences[first][0] : sentences[last][1]]


@lru_cache(maxsize=4096)
def _key(token: str) -> str:
    word = token.casefold().replace("’", "'").removesuffix("'s")
    return (terms(word) or [word])[0] if word.isalpha() else word


@lru_cache(maxsize=1)
def _free_words() -> frozenset[str]:
    """Function words and attribution: prose made only of these adds no claim of its own."""
    stop = stopwords()
    negated = {w for w in stop if w.endswith("n't") or f"{w}'t" in stop}
    function = {w for w in stop if w not in _MEANINGFUL and w not in negated}
    return frozenset(function | {_key(w) for w in _ATTRIBUTION.split()} | set(_ATTRIBUTION.split()))


def _acronyms(text: str) -> set[str]:
    """Initials of runs of capitalised words ("United Nations" → "UN")."""
    found: set[str] = set()
    run: list[str] = []
    for token in [*_TOKEN.findall(text), "."]:
        if token[:1].isupper():
            run.append(token[0])
        elif token.casefold() not in _RUN_GLUE or not run:
            found.update("".join(run[i:j]) for i in range(len(run)) for j in range(i + 2, min(len(run), i + 6) + 1))
            run = []
    return found


@dataclass(frozen=True)
class Support:
    """How much of a sentence of model prose its quotes carry."""

    unsupported: tuple[str, ...]  # content words of the prose that neither the quotes nor their context hold
    content_words: int  # content words of the sentence as shown: prose and quotes

    @property
    def carried(self) -> bool:
        n = len(self.unsupported)
        return n <= MAX_UNSUPPORTED_WORDS and n <= MAX_UNSUPPORTED_SHARE * self.content_words


def support(prose: str, quoted: Sequence[str], context: str) -> Support:
    """Which content words of ``prose`` (the model's words in one sentence) are carried: a word is
    free when it is a function word or attribution ("said", "according to", "the article"), and
    supported when the sentence's verified ``quoted`` text or ``context`` (the article sentences
    the quotes come from, the cited publisher, author and date) holds it, stemmed, or as initials."""
    free = _free_words()
    held = {_key(t) for t in _TOKEN.findall(" ".join([*quoted, context]))}
    initials = _acronyms(" ".join([*quoted, context]))
    content = [t for t in _TOKEN.findall(prose) if _key(t) not in free]
    unsupported = tuple(t for t in content if _key(t) not in held and t.replace(".", "") not in initials)
    in_quotes = sum(_key(t) not in free for q in quoted for t in _TOKEN.findall(q))
    return Support(unsupported, len(content) + in_quotes)
