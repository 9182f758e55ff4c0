"""Training pairs for the answer reader, built from the archives' own sentences (no dev question).

Each pair is (question, sentence, label). A *positive* is a question made from a sentence that
states an answer of a kind — a person, organisation, place, date, number, amount or share — by
putting the wh-word of that kind in the answer's place (the answer itself leaves the question):
"… was named chief executive in 1998." → "When … was named chief executive?". Its negatives are
the near misses a reader must turn down:

- **sibling**: the same question against the sentence of the same article that shares most of its
  words but does not hold the answer;
- **swapped constraint**: the question with one of its own names, places, dates or figures replaced
  by another of the same kind from another article ("… secretary of the Navy" for "… of the Army"),
  against the original sentence, which now states the answer for something else;
- **wrong kind**: the question asking for a kind of answer the sentence does not hold at all.

Every choice is drawn from one seeded generator, so the table is rebuilt exactly from the archives.
The rules are stated in terms of kinds of answers and sentence structure, never in terms of any
question of a question set.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.chunking import sentence_spans
from assistant.lexical import terms
from assistant.mentions import Span, find_spans
from assistant.records import Article
from assistant.sources import read_file

KINDS = ("person", "organisation", "place", "date", "number", "money", "share")
WH = {
    "person": ("Who", "Which person", "Who is the person who"),
    "organisation": ("Which organisation", "Which group", "What body"),
    "place": ("Where", "In which place", "In what place"),
    "date": ("When", "On what date", "At what time"),
    "number": ("How many", "What number of"),
    "money": ("How much", "How much money", "What amount"),
    "share": ("What share", "What percentage", "What proportion"),
}
MIN_WORDS, MAX_WORDS = 6, 60
WINDOW = 12  # words kept either side of the answer's place
PER_ARTICLE = 3  # positives drawn from one article
DROP = 0.05  # chance that a lower-case word of the question is left out (questions rarely copy a sentence)
_WORD = re.compile(r"[\w$£€%'’.,-]*\w%?|[$£€]")


@dataclass(frozen=True)
class Pair:
    question: str
    sentence: str
    label: int
    how: str  # positive, sibling, swap or kind
    article_id: str
    answer: str  # the answer of the positive the pair was made from


def sentences(article: Article) -> list[str]:
    out = []
    for s in sentence_spans(article.body):
        text = article.body[s.start : s.end]
        if MIN_WORDS <= len(text.split()) <= MAX_WORDS:
            out.append(text)
    return out


def spans_of(sentence: str) -> list[Span]:
    """The answers of each kind the sentence states (a name of unclear class is left out)."""
    found: dict[tuple[int, int], Span] = {}
    for kind in KINDS:
        for span in find_spans(sentence, kind):
            if span.kind == kind and len(span.text) > 1:
                found.setdefault((span.start, span.end), span)
    return sorted(found.values(), key=lambda s: s.start)


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def question_for(sentence: str, answer: Span, wh: str, rng: random.Random) -> str:
    """The sentence asked about ``answer``: the wh-phrase, then the words around the answer's place."""
    before, after = sentence[: answer.start], sentence[answer.end :]
    lead = before.strip().lower()
    if lead in ("", "the", "a", "an"):  # the answer is the subject: "Who became …?"
        body = _words(after)[: 2 * WINDOW]
    else:
        body = _words(before)[-WINDOW:] + _words(after)[:WINDOW]
    kept = [w for w in body if not (w[:1].islower() and rng.random() < DROP)]
    text = " ".join(kept).strip(" ,;:-")
    return f"{wh} {text}?"


def _overlap(question: str, sentence: str) -> int:
    return len(set(terms(question)) & set(terms(sentence)))


def _swap(question: str, sentence: str, answer: Span, pool: dict[str, list[str]], rng: random.Random) -> str | None:
    """The question with one of its other names, places, dates or figures replaced by another of the
    same kind; None when it holds none."""
    others = [s for s in spans_of(sentence) if s.end <= answer.start or s.start >= answer.end]
    others = [s for s in others if s.text in question]
    if not others:
        return None
    target = rng.choice(others)
    choices = [t for t in pool.get(target.kind, []) if t.lower() != target.text.lower() and t.lower() not in sentence.lower()]
    if not choices:
        return None
    return question.replace(target.text, rng.choice(choices), 1)


def article_pairs(article: Article, pool: dict[str, list[str]], rng: random.Random) -> Iterator[Pair]:
    said = sentences(article)
    candidates = [(i, s) for i, text in enumerate(said) for s in spans_of(text)]
    rng.shuffle(candidates)
    used: set[int] = set()
    made = 0
    for i, answer in candidates:
        if made >= PER_ARTICLE or i in used:
            continue
        used.add(i)
        made += 1
        sentence = said[i]
        question = question_for(sentence, answer, rng.choice(WH[answer.kind]), rng)
        yield Pair(question, sentence, 1, "positive", article.id, answer.text)
        siblings = [t for j, t in enumerate(said) if j != i and answer.text.lower() not in t.lower()]
        if siblings:
            best = max(_overlap(question, t) for t in siblings)
            if best > 0:
                sibling = rng.choice([t for t in siblings if _overlap(question, t) == best])
                yield Pair(question, sibling, 0, "sibling", article.id, answer.text)
        swapped = _swap(question, sentence, answer, pool, rng)
        if swapped is not None:
            yield Pair(swapped, sentence, 0, "swap", article.id, answer.text)
        held = {s.kind for s in spans_of(sentence)}
        absent = [k for k in KINDS if k not in held]
        if absent and rng.random() < 0.4:
            kind = rng.choice(absent)
            yield Pair(question_for(sentence, answer, rng.choice(WH[kind]), rng), sentence, 0, "kind", article.id, answer.text)


def read_articles(paths: Iterable[Path]) -> list[Article]:
    return [a for p in paths for a in read_file(p) if isinstance(a, Article)]


def build_pairs(articles: list[Article], seed: int = 0) -> list[Pair]:
    """Every pair for ``articles``, in a fixed order."""
    rng = random.Random(seed)
    pool: dict[str, list[str]] = {k: [] for k in KINDS}
    for article in articles:
        for text in sentences(article):
            for span in spans_of(text):
                pool[span.kind].append(span.text)
    pool = {k: sorted(set(v)) for k, v in pool.items()}
    return [pair for article in articles for pair in article_pairs(article, pool, rng)]
