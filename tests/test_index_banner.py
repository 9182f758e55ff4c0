"""The chat says which index answers: a banner when an earlier generation answers for a damaged live
one (with why and the rebuild command), the live one tried again when ``LIVE`` changes, and a damaged
index worded apart from no index at all.

Real encoder and Chroma in temporary directories; the handlers are called as the page calls them,
and one test drives the served app in Debian's Chromium.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import ui_helpers as h

from assistant.chat import Newsdesk
from assistant.config import Settings
from assistant.embedding import Embedder
from assistant.indexing import rebuild
from assistant.store import IndexPaths
from assistant.store.paths import write_atomic
from assistant.ui import Chat

SEED_FILE = "000_1188ee5dcc83ef1c.txt"  # the seed article alone (seeds/ may hold other files)
QUAY = {"id": "quay", "title": "Quay repairs begin", "publisher": "Harbour Post", "date": "2016-10-02",
        "body": "Repairs to the north quay began on Monday and will take six weeks, the harbour board said."}


@pytest.fixture(scope="module")
def two_generations(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """An index whose previous generation holds the seed and whose live one also holds the quay story."""
    root = tmp_path_factory.mktemp("banner")
    (root / "more.jsonl").write_text(json.dumps(QUAY) + "\n", encoding="utf-8")
    s = Settings.from_env(index_dir=root / "index")
    rebuild([h.SEEDS / SEED_FILE], s, embedder=embedder)
    rebuild([h.SEEDS / SEED_FILE, root / "more.jsonl"], s, embedder=embedder)
    return root / "index"


def copied(source: Path, settings: Settings) -> tuple[Path, Path]:
    """(previous, live) generations of a fresh copy of ``source`` at ``settings.index_dir``."""
    import shutil

    shutil.copytree(source, settings.index_dir)
    paths = IndexPaths(settings.index_dir)
    live = paths.live_generation()
    assert live is not None
    return next(p for p in paths.complete_generations() if p != live), live


def truncate(path: Path) -> bytes:
    """Cut ``path`` to half its size; returns what it held."""
    raw = path.read_bytes()
    os.truncate(path, len(raw) // 2)
    return raw


def banner_of(outputs: tuple[Any, ...]) -> str:
    """The index banner: the last output of ``page``, ``ask`` and ``clear``."""
    return str(outputs[-1])


@pytest.mark.parametrize("damaged", ["chunks.jsonl", "chroma/chroma.sqlite3"])
def test_banner_says_which_generation_answers_when_the_live_one_is_damaged(
    two_generations: Path, settings: Settings, embedder: Embedder, damaged: str
) -> None:
    """Damage inside Chroma is invisible to ``index status`` (manifests and file sizes): the banner
    comes from the index the chat actually opened."""
    previous, live = copied(two_generations, settings)
    truncate(live / damaged)
    chat = Chat(Newsdesk(settings, embedder), settings)
    loaded = chat.page()
    banner = banner_of(loaded)
    assert 'data-state="stale"' in banner and 'role="alert"' in banner
    assert f"Answering from an older index: generation {previous.name}" in banner
    assert live.name in banner and "damaged" in banner and "newsdesk index rebuild PATH" in banner
    assert str(settings.index_dir) not in banner, "no paths in the chat"
    assert 'data-state="ready"' in loaded[0]
    assert ">1<" in loaded[1], "the archive panel describes the generation that answers (the seed only)"

    final = list(chat.ask(h.SEED_QUESTION, [], [], "", ""))[-1]
    assert h.SEED_QUOTE in final[1] and f"generation {previous.name}" in banner_of(final)

    rebuild([h.SEEDS / SEED_FILE, two_generations.parent / "more.jsonl"], settings, embedder=embedder)  # repairs it
    final = list(chat.ask("When did repairs to the north quay begin?", [], [], "", ""))[-1]
    assert "north quay" in final[1] and banner_of(final) == "", "the banner goes once the live generation answers"


def test_the_chat_tries_the_live_generation_again_when_live_changes(
    two_generations: Path, settings: Settings, embedder: Embedder
) -> None:
    previous, live = copied(two_generations, settings)
    whole = truncate(live / "chunks.jsonl")
    desk = Newsdesk(settings, embedder)
    chat = Chat(desk, settings)
    assert desk.index.dir == previous and previous.name in chat.banner()
    assert desk.index is desk.index, "no reopening while LIVE stays as it is"

    (live / "chunks.jsonl").write_bytes(whole)  # the file restored (from a backup, say) ...
    assert desk.index.dir == previous
    write_atomic(IndexPaths(settings.index_dir).live, live.name + "\n")  # ... and LIVE written again, same name
    assert desk.index.dir == live and desk.index.notice == ""
    assert chat.banner() == ""
    assert "north quay" in desk.ask("When did repairs to the north quay begin?").text


def test_damaged_and_no_index_are_different_states_with_different_words(settings: Settings, embedder: Embedder) -> None:
    chat = Chat(Newsdesk(settings, embedder), settings)
    missing = chat.page()
    assert 'data-state="no-index"' in missing[0] and "No index" in missing[0]
    assert "No index" in missing[2] and banner_of(missing) == ""

    rebuild([h.SEEDS / SEED_FILE], settings, embedder=embedder)
    live = IndexPaths(settings.index_dir).live_generation()
    assert live is not None
    truncate(live / "chunks.jsonl")
    damaged = Chat(Newsdesk(settings, embedder), settings).page()
    assert 'data-state="damaged"' in damaged[0] and "Index damaged" in damaged[0] and "No index" not in damaged[0]
    assert "No index" not in damaged[1] and "No index" not in damaged[2], "neither the archive panel nor the conversation"
    banner = banner_of(damaged)
    assert 'data-state="damaged"' in banner and "The index is damaged and cannot answer" in banner
    assert live.name in banner and "chunks.jsonl" in banner and "newsdesk index rebuild PATH" in banner
    assert "No index" not in banner and str(settings.index_dir) not in banner


# ---- in a browser -------------------------------------------------------------------------------


@pytest.mark.browser
def test_browser_shows_the_banner_and_drops_it_after_a_rebuild(
    two_generations: Path, settings: Settings, embedder: Embedder, browser: Any
) -> None:
    previous, live = copied(two_generations, settings)
    truncate(live / "chunks.jsonl")
    with h.served(settings, embedder) as app:
        page, watch = h.open_page(browser, app.url)
        banner = page.locator("#nd-banner .nd-banner[data-state='stale']")
        banner.wait_for(timeout=30_000)
        text = " ".join(banner.inner_text().split())
        assert f"Answering from an older index: generation {previous.name}" in text
        assert live.name in text and "newsdesk index rebuild PATH" in text
        assert banner.get_attribute("role") == "alert"
        turn = h.ask(page, h.SEED_QUESTION)
        turn.locator(".nd-card", has_text=h.SEED_QUOTE).first.wait_for()
        h.screenshot(page, "stale-index-banner")

        rebuild([h.SEEDS / SEED_FILE, two_generations.parent / "more.jsonl"], settings, embedder=embedder)
        h.ask(page, "When did repairs to the north quay begin?")
        page.locator("#nd-banner .nd-banner").wait_for(state="detached", timeout=15_000)
        assert watch.external() == [] and watch.dialogs == []
