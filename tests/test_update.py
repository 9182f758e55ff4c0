"""Incremental updates and reuse of stored vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SEEDS, assert_quotes_verify

from assistant.chat import Newsdesk
from assistant.config import Settings
from assistant.embedding import SentenceTransformerEmbedder
from assistant.errors import IndexMissingError
from assistant.indexing import rebuild, update
from assistant.store import open_index


def story(i: int, extra: str = "") -> dict[str, str]:
    return {"id": f"s{i}", "title": f"Story {i}", "publisher": "Metro Daily", "published_at": f"2016-09-{10 + i:02d}",
            "body": f"The council discussed proposal number {i} on zoning for the {i}th district. {extra}".strip()}


def write(path: Path, rows: list[dict[str, str]]) -> None:
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")


def test_update_adds_changes_and_prunes(settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    write(feed, [story(1), story(2), story(3)])
    first = rebuild([feed, SEEDS], settings, embedder=embedder)
    assert first.articles == 4 and first.reused == 0

    again = rebuild([feed, SEEDS], settings, embedder=embedder)  # nothing changed: nothing re-encoded
    assert again.reused == 4 and again.embedded == 0

    write(feed, [story(1), story(2, "The vote was postponed until October because the mayor was ill."), story(4)])
    report = update([feed], settings, embedder=embedder, prune=True)
    assert report.removed == ["s3"]
    assert report.embedded == 2  # the changed s2 and the new s4, one chunk each
    index = open_index(settings.index_dir, embedder)
    assert set(index.articles) == {"000_1188ee5dcc83ef1c", "s1", "s2", "s4"}
    got = index.collection.get(include=["documents", "metadatas"])
    assert len(got["ids"]) == len(set(got["ids"])) == index.manifest.chunks
    docs = dict(zip(got["ids"], got["documents"], strict=True))
    assert "postponed until October" in docs["s2#0"] and "s3#0" not in docs
    answer = Newsdesk(settings, embedder).ask("Why was the vote on proposal 2 postponed?")
    assert answer.sources and answer.sources[0].article_id == "s2"
    assert_quotes_verify(answer, index)
    answer = Newsdesk(settings, embedder).ask("How many civilians are trapped in eastern Aleppo?")
    assert any("250,000" in q.text for q in answer.quotes)


def test_update_without_prune_keeps_articles(settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    write(feed, [story(1), story(2)])
    rebuild([feed], settings, embedder=embedder)
    other = tmp_path / "more.jsonl"
    write(other, [story(5)])
    report = update([other], settings, embedder=embedder)
    assert report.embedded == 1 and report.reused == 2 and not report.removed
    assert set(open_index(settings.index_dir, embedder).articles) == {"s1", "s2", "s5"}


def test_update_needs_an_index(settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    write(tmp_path / "feed.jsonl", [story(1)])
    with pytest.raises(IndexMissingError):
        update([tmp_path / "feed.jsonl"], settings, embedder=embedder)
