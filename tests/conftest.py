"""Fixtures, and the skip check (skipcheck.py): real model, real Chroma in tmp dirs, no test touches the repo's index/ (shared helpers: helpers.py)."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

pytest_plugins = ["pytester"]  # the skip check is tested by running a small suite

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from helpers import HORNE  # noqa: E402
from skipcheck import pytest_sessionfinish, pytest_terminal_summary  # noqa: E402, F401  (hooks of this suite)

from assistant.config import Settings  # noqa: E402
from assistant.embedding import SentenceTransformerEmbedder  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own index directory; nothing touches the repo's index/."""
    for key in list(os.environ):
        if key.startswith("NEWSDESK_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("NEWSDESK_INDEX_DIR", str(tmp_path / "index"))
    # the suite's reference encoder is the ``embedder`` fixture (torch, the same vectors as the default
    # onnx-fp32); the default backend itself is tested in test_default_backend.py and test_onnx_encoder.py
    monkeypatch.setenv("NEWSDESK_EMBED_BACKEND", "torch")


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The packaged all-MiniLM-L6-v2, loaded once per test session (offline)."""
    e = SentenceTransformerEmbedder()
    e.embed_batch(["warm up"])
    return e


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by playwright (never `playwright install`), launched once per test module."""
    from ui_helpers import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (make browser installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def horne_settings(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Settings:
    """One index of the Horne archive, built once and shared read-only by the tests that need it."""
    from assistant.indexing import rebuild

    s = Settings.from_env(index_dir=tmp_path_factory.mktemp("horne") / "index")
    rebuild([HORNE], s, embedder=embedder)
    return s
