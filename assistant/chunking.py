"""Article → sentences and chunks, all with exact offsets into the article body.

Sentences come from NLTK's trained English Punkt model (bundled with llama-index-core, so no
download). Chunks are runs of whole sentences packed up to a budget of *model* tokens, so the
encoder never truncates article text; a sentence longer than the budget is cut at token
boundaries. Every span satisfies ``text == body[start:end]``.

llama-index's ``SentenceSplitter`` was measured as the alternative: it rebuilds chunk text from
its splits and only recovers offsets by searching for it, which is not exact. The same sentence
spans serve chunking here and sentence-level evidence at query time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .lexical import nltk_data
from .records import Article, Chunk

_PARAGRAPH = re.compile(r"[^\n]+")

TokenCounter = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@lru_cache(maxsize=1)
def _punkt():  # type: ignore[no-untyped-def]
    import nltk.data
    from nltk.tokenize.punkt import PunktTokenizer

    bundled = str(nltk_data())
    if bundled not in nltk.data.path:
        nltk.data.path.append(bundled)
    return PunktTokenizer("english")


def sentence_spans(text: str) -> list[Span]:
    """Sentences of ``text``: never crossing a line break, trimmed of surrounding spaces."""
    tokenizer = _punkt()
    spans: list[Span] = []
    for para in _PARAGRAPH.finditer(text):
        base = para.start()
        for s, e in tokenizer.span_tokenize(para.group()):
            piece = text[base + s : base + e]
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece) - len(piece.rstrip())
            if e - s - lead - trail <= 0:
                continue
            span = Span(base + s + lead, base + e - trail)
            if spans and spans[-1].end >= base and _continues(text[span.start : span.end]):
                span = Span(spans.pop().start, span.end)  # "Russian-U.S. accord": not a new sentence
            spans.append(span)
    return spans


def _continues(sentence: str) -> bool:
    """Punkt splits after abbreviations like "U.S."; a piece starting in lower case continues the last one."""
    first = next((ch for ch in sentence if ch.isalnum()), "")
    return first.islower()


def chunk_article(
    article: Article,
    count_tokens: TokenCounter,
    max_tokens: int,
    overlap_sentences: int = 1,
    spans: list[Span] | None = None,
) -> list[Chunk]:
    """Pack the article's sentences into chunks of at most ``max_tokens`` model tokens.

    ``spans`` are the body's sentences when the caller already has them; a sentence longer than
    the budget is cut into pieces, which then count as sentences of their own.
    """
    body = article.body
    spans = fit_spans(body, sentence_spans(body) if spans is None else spans, count_tokens, max_tokens)
    sizes = count_tokens([body[s.start : s.end] for s in spans])
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0
    for i, size in enumerate(sizes):
        if current and total + size > max_tokens:
            groups.append(current)
            keep = current[-overlap_sentences:] if overlap_sentences else []
            keep_size = sum(sizes[j] for j in keep)
            if keep_size + size > max_tokens or keep_size > max_tokens // 2:
                keep, keep_size = [], 0
            current, total = list(keep), keep_size
        current.append(i)
        total += size
    if current:
        groups.append(current)
    chunks = []
    for ordinal, group in enumerate(groups):
        start, end = spans[group[0]].start, spans[group[-1]].end
        chunks.append(Chunk(article.id, ordinal, start, end, body[start:end]))
    return chunks


def fit_spans(body: str, spans: list[Span], count_tokens: TokenCounter, max_tokens: int) -> list[Span]:
    """Cut any sentence longer than the budget into word-aligned pieces that fit."""
    sizes = count_tokens([body[s.start : s.end] for s in spans])
    fitted: list[Span] = []
    for span, size in zip(spans, sizes, strict=True):
        if size <= max_tokens:
            fitted.append(span)
        else:
            fitted.extend(_split_long(body, span, count_tokens, max_tokens))
    return fitted


def _split_long(body: str, span: Span, count_tokens: TokenCounter, max_tokens: int) -> list[Span]:
    words = [m.span() for m in re.finditer(r"\S+", body[span.start : span.end])]
    pieces: list[Span] = []
    first = 0
    while first < len(words):
        lo, hi = first + 1, len(words)
        while lo < hi:  # the longest run of words from `first` that fits
            mid = (lo + hi + 1) // 2
            text = body[span.start + words[first][0] : span.start + words[mid - 1][1]]
            if count_tokens([text])[0] <= max_tokens:
                lo = mid
            else:
                hi = mid - 1
        start, end = span.start + words[first][0], span.start + words[lo - 1][1]
        if count_tokens([body[start:end]])[0] > max_tokens:  # one enormous "word"
            end = start + max(1, len(body[start:end]) * max_tokens // (count_tokens([body[start:end]])[0] + 1))
        pieces.append(Span(start, end))
        first = lo if end == span.start + words[lo - 1][1] else first + 1
    return pieces


def embed_text(article: Article, chunk: Chunk) -> str:
    """What the encoder reads for a chunk: the headline gives every chunk its story's context."""
    return f"{article.title}\n{chunk.text}" if article.title else chunk.text
