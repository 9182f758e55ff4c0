"""Helpers the tests share: where the repository's archives are, and the product's promise as an assertion."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.records import Answer, Article
from assistant.sources import Problem
from assistant.store import Index

if TYPE_CHECKING:
    from assistant.chat import Newsdesk
    from assistant.embedding import Embedder
    from assistant.sources import Limits

REPO = Path(__file__).resolve().parent.parent
SEED_PAGE = REPO / "seeds" / "000_1188ee5dcc83ef1c.txt"


def _seed_page_folder() -> Path:
    """A folder holding the seed page and its question set alone, as ``seeds/`` was before it also
    held the demo archive: most tests want an archive of one known article."""
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-seed-"))
    atexit.register(shutil.rmtree, folder, True)
    for name in (SEED_PAGE.name, "questions.jsonl"):
        shutil.copy2(REPO / "seeds" / name, folder / name)
    return folder


SEEDS = _seed_page_folder()  # the seed page alone; the whole default archive is REPO / "seeds"
DATA = REPO / "tests" / "data"  # the licensed archives, carried by the repository (see tests/data/README.md)
HORNE = DATA / "horne2017" / "articles.jsonl"
FNC = DATA / "fakenewscorpus-sample" / "news_sample.csv"

def read_all(*paths: Path, limits: Limits | None = None) -> tuple[list[Article], list[Problem]]:
    """Every article and every problem of ``paths``, as an index build would read them."""
    from assistant.sources import Limits, iter_files, read_file

    articles: list[Article] = []
    problems: list[Problem] = []
    for entry in iter_files(list(paths)):
        if isinstance(entry, Problem):
            problems.append(entry)
            continue
        for r in read_file(entry, limits or Limits()):
            (articles if isinstance(r, Article) else problems).append(r)  # type: ignore[arg-type]
    return articles, problems


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
