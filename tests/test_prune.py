"""`index update --prune` removes only what is really gone: articles whose file is gone, or whose
file was read whole this time without them. Paths are compared in one form whatever directory the
command runs from; a file or record that fails to read keeps its earlier articles; `--dry-run`
lists the removals and writes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import REPO

import assistant.indexing as indexing
from assistant import sources
from assistant.config import Settings
from assistant.embedding import SentenceTransformerEmbedder
from assistant.indexing import rebuild, update
from assistant.records import Article
from assistant.sources import Limits, Problem
from assistant.store import open_index


def story(i: int, extra: str = "") -> dict[str, str]:
    return {"id": f"s{i}", "title": f"Story {i}", "publisher": "Metro Daily", "published_at": f"2016-09-{10 + i:02d}",
            "body": f"The council discussed proposal number {i} on zoning for the {i}th district. {extra}".strip()}


def write(path: Path, rows: list[dict[str, str]]) -> None:
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")


def page(path: Path, title: str, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{title}\n\n{body}", encoding="utf-8")


def ids(settings: Settings, embedder: SentenceTransformerEmbedder) -> set[str]:
    return set(open_index(settings.index_dir, embedder).articles)


def said(problems: list[Problem], *words: str) -> list[Problem]:
    return [p for p in problems if all(w in str(p) for w in words)]


def test_update_from_another_directory_prunes_nothing_of_an_untouched_archive(
    settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported case: `index rebuild arch` in a/, then `index update --prune ../a/arch2` from b/."""
    a, b = tmp_path / "a", tmp_path / "b"
    b.mkdir()
    page(a / "arch" / "council.txt", "Council votes", "The council voted to expand the bus network by four routes.")
    page(a / "arch2" / "bridge.txt", "Bridge reopens", "The Main Street bridge reopened after eight months of repairs.")
    monkeypatch.chdir(a)
    rebuild([Path("arch")], settings, embedder=embedder)
    monkeypatch.chdir(b)
    report = update([Path("../a/arch2")], settings, embedder=embedder, prune=True)
    assert report.removed == []
    assert ids(settings, embedder) == {"council", "bridge"}
    index = open_index(settings.index_dir, embedder)
    assert index.articles["council"].origin == str((a / "arch" / "council.txt").resolve())
    assert index.articles["bridge"].origin == str((a / "arch2" / "bridge.txt").resolve())
    assert index.manifest.sources == [str((a / "arch").resolve()), str((a / "arch2").resolve())]
    # a file really gone is still pruned, whatever the directory
    (a / "arch" / "council.txt").unlink()
    monkeypatch.chdir(tmp_path)
    report = update([a / "arch2"], settings, embedder=embedder, prune=True)
    assert report.removed == ["council"]
    assert ids(settings, embedder) == {"bridge"}


@pytest.mark.parametrize("damage", ["binary", "malformed-json", "oversize"])
def test_a_file_that_fails_to_read_keeps_its_articles_and_is_reported(
    settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path, damage: str
) -> None:
    feed = tmp_path / "feed.jsonl"
    write(feed, [story(1), story(2)])
    export = tmp_path / "export.json"
    export.write_text(json.dumps([story(3), story(4)], indent=1), encoding="utf-8")
    page(tmp_path / "pages" / "p5.txt", "Story 5", "The council discussed proposal number 5 on zoning.")
    rebuild([feed, export, tmp_path / "pages"], settings, embedder=embedder)
    write(tmp_path / "new.jsonl", [story(6)])
    limits = settings
    if damage == "binary":
        feed.write_bytes(bytes(range(256)) * 40)
        broken, kept = feed, {"s1", "s2"}
    elif damage == "malformed-json":
        export.write_text(export.read_text(encoding="utf-8").replace('"s4"', '"s4" oops'), encoding="utf-8")
        broken, kept = export, {"s3", "s4"}
    else:
        page(tmp_path / "pages" / "p5.txt", "Story 5", "The council discussed proposal number 5. " * 30_000)
        limits = Settings.from_env(index_dir=settings.index_dir, max_file_mb=1)
        broken, kept = tmp_path / "pages" / "p5.txt", {"p5"}
    report = update([feed, export, tmp_path / "pages", tmp_path / "new.jsonl"], limits, embedder=embedder, prune=True)
    assert report.removed == []
    assert ids(settings, embedder) == {"s1", "s2", "s3", "s4", "p5", "s6"}
    assert said(report.rejected, str(broken)), report.rejected
    [notice] = said(report.notices, str(broken), "kept")
    assert f"{len(kept)} earlier article(s)" in notice.reason
    index = open_index(settings.index_dir, embedder)
    assert all(index.articles[i].body.startswith("The council discussed") for i in kept)


def test_a_jsonl_line_that_fails_to_parse_keeps_its_earlier_article(
    settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.jsonl"
    write(feed, [story(1), story(2), story(3)])
    rebuild([feed], settings, embedder=embedder)
    # s2's line is broken and s3 has been taken out: which line held s3 is not knowable, so nothing is pruned
    good = [json.dumps(story(1, "The vote was postponed until October."))]
    feed.write_text("\n".join([*good, '{"id": "s2", "title": "Story 2", "body": "The council'] ) + "\n", encoding="utf-8")
    report = update([feed], settings, embedder=embedder, prune=True)
    assert report.removed == []
    assert ids(settings, embedder) == {"s1", "s2", "s3"}
    assert said(report.rejected, f"{feed}:2", "invalid JSON")
    assert said(report.notices, str(feed), "2 earlier article(s)", "kept")
    index = open_index(settings.index_dir, embedder)
    assert "postponed" in index.articles["s1"].body and index.articles["s2"].body == story(2)["body"]
    # a record that parses but is rejected names its article: only that one is kept, the rest of the file vouches
    write(feed, [story(1), {"id": "s2", "title": "Story 2", "body": "   "}])
    report = update([feed], settings, embedder=embedder, prune=True)
    assert report.removed == ["s3"]
    assert ids(settings, embedder) == {"s1", "s2"}
    assert said(report.rejected, f"{feed}:2", "no article body")
    assert said(report.notices, "s2", "kept")


def test_an_index_with_relative_origins_is_never_pruned_by_path_form(
    settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Indexes built before origins were stored resolved hold paths as typed: those articles are kept
    (the directory they were relative to is unknown) and the report says how to record absolute paths."""
    a = tmp_path / "a"
    page(a / "arch" / "council.txt", "Council votes", "The council voted to expand the bus network by four routes.")
    page(a / "arch" / "bridge.txt", "Bridge reopens", "The Main Street bridge reopened after eight months of repairs.")
    page(tmp_path / "b" / "other" / "fair.txt", "Fair opens", "The county fair opened on Friday with a record crowd.")
    monkeypatch.chdir(a)

    def as_typed(path: Path, limits: Limits) -> Iterator[Article | Problem]:  # origins as earlier versions stored them
        for record in sources.read_file(path, limits):
            yield replace(record, origin=os.path.relpath(record.origin)) if isinstance(record, Article) else record

    with monkeypatch.context() as m:
        m.setattr(indexing, "read_file", as_typed)
        rebuild([Path("arch")], settings, embedder=embedder)
    assert open_index(settings.index_dir, embedder).articles["council"].origin == "arch/council.txt"
    (a / "arch" / "bridge.txt").unlink()
    monkeypatch.chdir(tmp_path / "b")
    report = update([Path("other")], settings, embedder=embedder, prune=True)
    assert report.removed == []
    assert ids(settings, embedder) == {"council", "bridge", "fair"}
    [notice] = said(report.notices, "relative path", "newsdesk index rebuild")
    assert "2 article(s)" in notice.reason


def snapshot(index_dir: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(index_dir)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(index_dir.rglob("*")) if p.is_file()}


def newsdesk(*args: str, index_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSDESK_INDEX_DIR": str(index_dir), "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_dry_run_lists_what_would_go_and_writes_nothing(
    settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.jsonl"
    write(feed, [story(1), story(2), story(3)])
    page(tmp_path / "pages" / "p5.txt", "Story 5", "The council discussed proposal number 5 on zoning.")
    rebuild([feed, tmp_path / "pages"], settings, embedder=embedder)
    write(feed, [story(1), story(2, "The vote was postponed."), story(4)])
    (tmp_path / "pages" / "p5.txt").unlink()
    live = (settings.index_dir / "LIVE").read_text(encoding="utf-8")
    before = snapshot(settings.index_dir)

    shown = newsdesk("index", "update", "--prune", "--dry-run", "feed.jsonl", index_dir=settings.index_dir, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert (settings.index_dir / "LIVE").read_text(encoding="utf-8") == live
    assert snapshot(settings.index_dir) == before
    out = shown.stdout
    assert "nothing was written" in out.lower()
    assert "1 new" in out and "1 changed" in out
    assert "Would remove 2 article(s)" in out
    assert f"s3 — {feed}:3: no longer in its file" in out
    assert f"p5 — {tmp_path / 'pages' / 'p5.txt'}:1: its file is gone" in out

    done = newsdesk("index", "update", "--prune", "feed.jsonl", index_dir=settings.index_dir, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Removed 2 article(s)" in done.stdout
    assert f"s3 — {feed}:3: no longer in its file" in done.stdout
    assert ids(settings, embedder) == {"s1", "s2", "s4"}
    assert (settings.index_dir / "LIVE").read_text(encoding="utf-8") != live
