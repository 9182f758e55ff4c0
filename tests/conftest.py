"""Shared fixtures: real model, real Chroma in tmp dirs, no test touches the repo's index/."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.embedding import SentenceTransformerEmbedder  # noqa: E402
from assistant.records import Answer  # noqa: E402
from assistant.store import Index  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
DATA = REPO / "tests" / "data"  # the licensed archives, carried by the repository (see tests/data/README.md)
HORNE = DATA / "horne2017" / "articles.jsonl"
FNC = DATA / "fakenewscorpus-sample" / "news_sample.csv"

needs_shared = pytest.mark.skipif(
    not HORNE.is_file() or not FNC.is_file(),
    reason="tests/data is incomplete: the real archives (Horne 2017, FakeNewsCorpus sample) are read from there",
)


@pytest.fixture(autouse=True)
def _isolated_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own index directory; nothing touches the repo's index/."""
    for key in list(os.environ):
        if key.startswith("NEWSDESK_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("NEWSDESK_INDEX_DIR", str(tmp_path / "index"))


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The packaged all-MiniLM-L6-v2, loaded once per test session (offline)."""
    e = SentenceTransformerEmbedder()
    e.embed_batch(["warm up"])
    return e


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def horne_settings(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Settings:
    """One index of the Horne archive, built once and shared read-only by the tests that need it."""
    if not HORNE.is_file():
        pytest.skip("tests/data/horne2017 is absent")
    from assistant.indexing import rebuild

    s = Settings.from_env(index_dir=tmp_path_factory.mktemp("horne") / "index")
    rebuild([HORNE], s, embedder=embedder)
    return s


def assert_quotes_verify(answer: Answer, index: Index) -> None:
    """The product's promise: every shown quote is the exact article text at its offsets."""
    for q in answer.quotes:
        article = index.articles[q.article_id]
        assert article.body[q.start : q.end] == q.text, f"quote does not verify: {q}"
        assert q.verification in ("verified", "repaired")
        assert any(s.number == q.source and s.article_id == q.article_id for s in answer.sources)
