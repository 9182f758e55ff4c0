"""Integrity at the article: damage that keeps a file's size is caught when the text is read, and
never quoted; a generation whose close failed is never published.

Real encoder, real Chroma in temporary directories. The damage is done the way a bad disk or a stray
write does it: bytes changed in place, the file's size unchanged (which the size check at open cannot see).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import chromadb.api.client
import pytest
from helpers import SEEDS

from assistant.chat import Newsdesk
from assistant.config import Settings
from assistant.embedding import Embedder
from assistant.errors import ArticleDamagedError, IndexWriteError
from assistant.indexing import rebuild
from assistant.store import IndexPaths, integrity, open_index
from assistant.store.tables import LOOKUP
from assistant.ui import Chat
from assistant.ui.handlers import render_index_banner

SEED_ID = "000_1188ee5dcc83ef1c"
SEED = SEEDS / f"{SEED_ID}.txt"  # the seed article alone (seeds/ may hold other files)
QUESTION = "How many civilians are trapped in eastern Aleppo?"
TRUE_TEXT = "more than 250,000 civilians are trapped"
DAMAGED_TEXT = "more than 850,000 civilians are trapped"


def damage_in_place(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` (same length in bytes) inside ``path``, keeping its size."""
    raw = path.read_bytes()
    assert len(old.encode()) == len(new.encode()) and raw.count(old.encode()) == 1
    path.write_bytes(raw.replace(old.encode(), new.encode()))
    assert path.stat().st_size == len(raw)


def live_of(settings: Settings) -> Path:
    live = IndexPaths(settings.index_dir).live_generation()
    assert live is not None
    return live


def two_generations(settings: Settings, embedder: Embedder, tmp_path: Path) -> tuple[Path, Path]:
    """A generation of the seed page, then a live one with a second article: (previous, live)."""
    rebuild([SEED], settings, embedder=embedder)
    previous = live_of(settings)
    (tmp_path / "more.jsonl").write_text(json.dumps({
        "id": "quay", "title": "Quay repairs begin", "publisher": "Harbour Post", "date": "2016-10-02",
        "body": "Repairs to the north quay began on Monday and will take six weeks, the harbour board said.",
    }) + "\n", encoding="utf-8")
    rebuild([SEED, tmp_path / "more.jsonl"], settings, embedder=embedder)
    return previous, live_of(settings)


def test_same_size_damage_to_an_article_is_caught_when_it_is_read_and_never_quoted(
    settings: Settings, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuild([SEED], settings, embedder=embedder)
    assert TRUE_TEXT in " ".join(Newsdesk(settings, embedder).ask(QUESTION).text.split())
    # As in an archive whose articles.jsonl is too large to hash at every open: only sizes are checked there.
    monkeypatch.setattr(integrity, "HASH_AT_OPEN_BYTES", 0, raising=False)
    damage_in_place(live_of(settings) / "articles.jsonl", "250,000", "850,000")

    desk = Newsdesk(settings, embedder)
    assert desk.index.notice == ""  # the generation opens: the damage is found when the article is read
    with pytest.raises(ArticleDamagedError, match=r"articles\.jsonl line 1 .*digest"):
        desk.index.articles[SEED_ID]  # noqa: B018 - reading it is the point
    with pytest.raises(ArticleDamagedError):
        list(desk.index.articles.stream())
    with pytest.raises(ArticleDamagedError, match="newsdesk index rebuild"):
        desk.ask(QUESTION)

    shown = Chat(desk, settings).ask_api(QUESTION)
    assert shown["answer"] is None
    assert shown["error"] == ArticleDamagedError("").chat_message()
    assert "damaged" in shown["error"] and "newsdesk index rebuild PATH" in shown["error"]
    assert "850,000" not in shown["html"] and "/" + settings.index_dir.name not in shown["html"]

    rebuild([SEED], settings, embedder=embedder)  # a rebuild reads the sources afresh and repairs it
    repaired = Newsdesk(settings, embedder).ask(QUESTION)
    assert TRUE_TEXT in " ".join(repaired.text.split()) and "850,000" not in repaired.text


def test_same_size_damage_to_a_small_file_is_caught_at_open_and_the_previous_generation_serves(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    previous, live = two_generations(settings, embedder, tmp_path)
    damage_in_place(live / "articles.jsonl", "250,000", "850,000")

    index = open_index(settings.index_dir, embedder)
    assert index.dir == previous
    assert live.name in index.notice and "articles.jsonl" in index.notice and "digest" in index.notice
    answer = Newsdesk(settings, embedder).ask(QUESTION)
    assert TRUE_TEXT in " ".join(answer.text.split()) and "850,000" not in answer.text


def test_an_index_written_before_digests_still_opens_and_answers(settings: Settings, embedder: Embedder) -> None:
    """Indexes of the previous version have neither file digests nor article digests: read unchecked."""
    rebuild([SEED], settings, embedder=embedder)
    live = live_of(settings)
    with sqlite3.connect(live / LOOKUP) as db:
        db.execute("ALTER TABLE article DROP COLUMN digest")
    db.close()
    manifest = json.loads((live / "manifest.json").read_text(encoding="utf-8"))
    del manifest["digests"]
    manifest["files"][LOOKUP] = (live / LOOKUP).stat().st_size
    (live / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    desk = Newsdesk(settings, embedder)
    assert desk.index.notice == "" and desk.index.articles.checked is False
    assert TRUE_TEXT in " ".join(desk.ask(QUESTION).text.split())


def test_a_chroma_close_error_before_publishing_fails_the_build_and_live_is_unchanged(
    settings: Settings, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuild([SEED], settings, embedder=embedder)
    paths = IndexPaths(settings.index_dir)
    live = live_of(settings)
    live_text = paths.live.read_text(encoding="utf-8")

    def failing_close(self: object) -> None:
        raise RuntimeError("could not flush the HNSW segment")

    monkeypatch.setattr(chromadb.api.client.Client, "close", failing_close)
    with pytest.raises(IndexWriteError, match=r"failed to close .*could not flush.*unchanged"):
        rebuild([SEED], settings, embedder=embedder)
    monkeypatch.undo()

    assert paths.live.read_text(encoding="utf-8") == live_text
    assert [p.name for p in paths.generations.iterdir()] == [live.name], "the unpublished generation is removed"
    assert TRUE_TEXT in " ".join(Newsdesk(settings, embedder).ask(QUESTION).text.split())


def test_damage_found_while_answering_switches_the_chat_to_the_previous_generation(
    settings: Settings, embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous, live = two_generations(settings, embedder, tmp_path)
    desk = Newsdesk(settings, embedder)
    chat = Chat(desk, settings)
    assert desk.index.dir == live and desk.index.notice == ""
    # the chat has the live generation open (no article read yet: one read is kept in memory); its articles
    # are damaged under it, in a file too large to hash at open
    monkeypatch.setattr(integrity, "HASH_AT_OPEN_BYTES", 0, raising=False)
    damage_in_place(live / "articles.jsonl", "250,000", "850,000")

    answer = desk.ask(QUESTION)
    assert TRUE_TEXT in " ".join(answer.text.split()) and "850,000" not in answer.text
    assert answer.quotes and all(q.text in SEED.read_text(encoding="utf-8") for q in answer.quotes)
    assert desk.index.dir == previous  # later questions are answered there too, without trying the damaged one again
    assert live.name in desk.index.notice and "digest" in desk.index.notice
    assert any("previous generation" in n for n in answer.notes), answer.notes
    shown = chat.ask_api(QUESTION)
    assert shown["error"] is None and shown["answer"] is not None and "850,000" not in shown["html"]
    banner = render_index_banner(*chat.serving())
    assert 'data-state="stale"' in banner and live.name in banner  # the chat's banner says which generation answers

    rebuild([SEED, tmp_path / "more.jsonl"], settings, embedder=embedder)  # a rebuild publishes: the chat takes it
    assert desk.index.dir == live_of(settings) != live and desk.index.notice == ""
