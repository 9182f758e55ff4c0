"""Helpers the tests share: where the repository's archives are, and the product's promise as an assertion."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.records import Answer
from assistant.store import Index

if TYPE_CHECKING:
    from assistant.chat import Newsdesk
    from assistant.embedding import Embedder

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
DATA = REPO / "tests" / "data"  # the licensed archives, carried by the repository (see tests/data/README.md)
HORNE = DATA / "horne2017" / "articles.jsonl"
FNC = DATA / "fakenewscorpus-sample" / "news_sample.csv"

def assert_quotes_verify(answer: Answer, index: Index) -> None:
    """The product's promise: every shown quote is the exact article text at its offsets."""
    for q in answer.quotes:
        article = index.articles[q.article_id]
        assert article.body[q.start : q.end] == q.text, f"quote does not verify: {q}"
        assert q.verification in ("verified", "repaired")
        assert any(s.number == q.source and s.article_id == q.article_id for s in answer.sources)


def desk_of(root: Path, records: Sequence[dict[str, object]], embedder: Embedder) -> Newsdesk:
    """A Newsdesk over ``records`` written as one JSONL feed under ``root`` and indexed for real."""
    from assistant.chat import Newsdesk
    from assistant.config import Settings
    from assistant.indexing import rebuild

    (root / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    settings = Settings.from_env(index_dir=root / "index")
    rebuild([root / "feed.jsonl"], settings, embedder=embedder)
    return Newsdesk(settings, embedder)
