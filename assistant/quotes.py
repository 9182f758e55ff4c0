"""The one verifier every quote passes before it is shown.

A quote is *verified* when the article body holds exactly its text at its offsets; *repaired*
when the producer's text differs from the body only by typography or spacing (curly vs straight
quote marks, dash forms, the ellipsis character, runs of whitespace, invisible characters) or its
offsets were missing or wrong — it is then relocated and its text replaced by the body's exact
text; otherwise *rejected*, and a rejected quote is never shown. An ellipsis that joins
non-adjacent text is accepted only when every part verifies, in order, and it is shown with
the ellipsis.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

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
