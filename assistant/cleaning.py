"""Cleaning of scraped text: decoding, mojibake repair, normalisation, page boilerplate, credit lines."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import ftfy

from .errors import BadInputError

_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, fix_character_width=False, explain=False)

# Control characters except tab and newline; bidi embeddings/overrides/isolates; invisible marks.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
_THAI = re.compile("[\u0e00-\u0e7f]")
# Runs of characters that cp874 can encode (Thai letters and cp874's punctuation) — mojibake candidates.
_CP874_RUN = re.compile("[\u0e00-\u0e7f\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026\u20ac\u00a0]{2,}")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def decode_bytes(data: bytes, where: str) -> str:
    """Strict UTF-8 first (BOM allowed); UTF-16 with a BOM; otherwise detect; binary is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise BadInputError(f"{where}: invalid UTF-16 text ({exc.reason})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _detect(data, where)
    if "\x00" in text:
        raise BadInputError(f"{where}: binary content (NUL bytes), not text")
    return text


def _detect(data: bytes, where: str) -> str:
    nuls = data.count(b"\x00")
    if nuls and nuls < len(data) // 4:  # UTF-16 without a BOM is a quarter NULs or more; anything else is binary
        raise BadInputError(f"{where}: binary content (NUL bytes), not text")
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise BadInputError(f"{where}: binary content or an unknown encoding; not decodable as text")
    encoding = best.encoding
    # Western single-byte files are overwhelmingly cp1252 (a superset of latin-1's printable range).
    if encoding in {"latin_1", "iso8859_15", "cp1250", "cp1252", "iso8859_2", "mac_roman"}:
        encoding = "cp1252"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if _control_ratio(text) > 0.05:
        raise BadInputError(f"{where}: binary content, not text")
    return text


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text[:20000] if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t")
    return bad / min(len(text), 20000)


def repair_cp874_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as cp874 (``ยท`` → ``·``), only in text that is not Thai.

    Real Thai text can contain the same letters, so a run is repaired only when it re-decodes as
    strict UTF-8 into non-Thai characters, no other Thai letter occurs in the text, and the text is
    otherwise written in Latin letters.
    """
    if not _THAI.search(text):
        return text
    runs = list(_CP874_RUN.finditer(text))
    repairs: list[tuple[int, int, str]] = []
    for m in runs:
        try:
            fixed = m.group().encode("cp874").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if not _THAI.search(fixed):
            repairs.append((m.start(), m.end(), fixed))
    if not repairs:
        return text
    repaired_thai = sum(len(_THAI.findall(text[s:e])) for s, e, _ in repairs)
    other_thai = len(_THAI.findall(text)) - repaired_thai
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    if other_thai > 0 or latin < 3 * repaired_thai:
        return text  # there is real Thai here (or nothing but these letters): leave it alone
    out, last = [], 0
    for s, e, fixed in repairs:
        out += [text[last:s], fixed]
        last = e
    return "".join([*out, text[last:]])


def normalize_text(text: str) -> str:
    """Repair mojibake, NFC, strip invisible/control characters, tidy whitespace, keep paragraphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = ftfy.fix_text(text, _FTFY)
    text = repair_cp874_mojibake(text)
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def normalize_inline(text: str | None) -> str:
    """A one-line field (title, author): normalised, line breaks folded into spaces."""
    return " ".join(normalize_text(text or "").split())


# ---- scraped pages -------------------------------------------------------------------------

_COUNTER = re.compile(r"^\s*[\d.,]+\s*[kKmM]?\s*(shares?|comments?|likes?|views?|tweets?)?\s*$", re.I)
_WIDGETS = {
    "facebook comments", "comments", "share this:", "share this", "share", "like this:", "tweet",
    "share on facebook", "share on twitter", "click to share on facebook", "click to share on twitter",
    "advertisement", "related", "related posts", "loading...", "loading…", "print", "email",
    "continue reading", "read more", "you might also like", "sponsored content", "leave a reply",
}
_CREDIT = re.compile(
    r"^\s*(?:\(c\)|©|copyright)\s*(?:(?P<year>(?:19|20)\d\d)\s*[,.]?\s*)?(?P<publisher>[^·•|]+?)"
    r"(?:\s*[·•|]\s*(?P<author>[^·•|]+?))?\s*\.?\s*$",
    re.I,
)


@dataclass(frozen=True)
class Credit:
    publisher: str
    author: str | None
    year: int | None


def parse_credit(line: str) -> Credit | None:
    """``(c) 2016, The Washington Post · Karen DeYoung`` → publisher, author, year."""
    m = _CREDIT.match(line)
    if not m or len(line) > 160:
        return None
    publisher = m.group("publisher").strip(" ,.-–—")
    if not publisher or len(publisher.split()) > 10:
        return None
    author = (m.group("author") or "").strip(" ,.-–—") or None
    return Credit(publisher, author, int(m.group("year")) if m.group("year") else None)


def is_boilerplate(line: str) -> bool:
    stripped = line.strip()
    return bool(_COUNTER.match(stripped)) or stripped.lower() in _WIDGETS


def clean_body(text: str) -> tuple[str, Credit | None]:
    """Drop leading counters and trailing widgets/credit lines; return the body and any credit found.

    Only the edges of an article are touched: a number or the word "Comments" inside the story stays.
    """
    lines = normalize_text(text).split("\n")
    credit: Credit | None = None
    while lines and (not lines[0].strip() or is_boilerplate(lines[0])):
        lines.pop(0)
    while lines:
        last = lines[-1]
        if not last.strip() or is_boilerplate(last):
            lines.pop()
        elif credit is None and (found := parse_credit(last)) is not None:
            credit = found
            lines.pop()
        else:
            break
    return "\n".join(lines).strip(), credit


def split_page(text: str) -> tuple[str, str, Credit | None]:
    """A text page in the seed's format → (title, body, credit)."""
    lines = normalize_text(text).split("\n")
    title = ""
    while lines and not title:
        candidate = lines.pop(0).strip()
        if candidate and not is_boilerplate(candidate):
            title = candidate
    body, credit = clean_body("\n".join(lines))
    return title, body, credit


_NOT_LABELS = frozenset({"article", "newsarticle", "news", "post", "page", "story", "blogposting", "webpage", "text"})


def dataset_label(value: object) -> str | None:
    """A record's label as its data set gives it ("satire", "fake", "reliable"), when it is one short
    word or phrase and not a schema type such as "NewsArticle"; shown beside the article, never used
    to rank or judge it."""
    text = normalize_inline(value if isinstance(value, str) else None).strip().lower()
    if not text or len(text) > 24 or text.replace(" ", "") in _NOT_LABELS or not re.fullmatch(r"[a-z][a-z -]*", text):
        return None
    return text
