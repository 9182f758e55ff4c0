"""Helpers the tests share: where the repository's archives are, and the product's promise as an assertion."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.records import Answer
from assistant.store import Index

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
DATA = REPO / "tests" / "data"  # the licensed archives, carried by the repository (see tests/data/README.md)
HORNE = DATA / "horne2017" / "articles.jsonl"
FNC = DATA / "fakenewscorpus-sample" / "news_sample.csv"

needs_shared = pytest.mark.skipif(
    not HORNE.is_file() or not FNC.is_file(),
    reason="tests/data is incomplete: the real archives (Horne 2017, FakeNewsCorpus sample) are read from there",
)


def assert_quotes_verify(answer: Answer, index: Index) -> None:
    """The product's promise: every shown quote is the exact article text at its offsets."""
    for q in answer.quotes:
        article = index.articles[q.article_id]
        assert article.body[q.start : q.end] == q.text, f"quote does not verify: {q}"
        assert q.verification in ("verified", "repaired")
        assert any(s.number == q.source and s.article_id == q.article_id for s in answer.sources)
