"""The index: generations, manifest, model check, one writer, atomic switch, kill -9 drills."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import HORNE, REPO, SEEDS, assert_quotes_verify

from assistant.chat import Newsdesk
from assistant.config import Settings
from assistant.embedding import SentenceTransformerEmbedder
from assistant.errors import BadInputError, IndexLockedError, IndexMismatchError, IndexMissingError
from assistant.indexing import rebuild
from assistant.store import IndexPaths, open_index, serving_generation, writer_lock
from assistant.store import writer as store_writer

QUESTION = "How many civilians are trapped in eastern Aleppo?"
NEWSDESK = [sys.executable, "-m", "assistant.cli"]


def test_rebuild_writes_a_manifest_and_answers(settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    report = rebuild([SEEDS], settings, embedder=embedder)
    assert (report.articles, report.rejected) == (1, [])
    index = open_index(settings.index_dir, embedder)
    m = index.manifest
    assert (m.model_id, m.dimension) == ("sentence-transformers/all-MiniLM-L6-v2", 384)
    assert m.articles == 1 and m.chunks == report.chunks == index.collection.count() > 1
    assert m.chunk_tokens == settings.chunk_tokens and m.chromadb_version and m.built_at
    assert m.publishers == ["The Washington Post"] and m.undated == 1
    answer = Newsdesk(settings, embedder).ask(QUESTION)
    assert not answer.abstained
    assert any("more than 250,000 civilians are trapped" in q.text for q in answer.quotes)
    assert_quotes_verify(answer, index)


def test_every_chunk_is_the_article_text_at_its_offsets(settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    rebuild([SEEDS], settings, embedder=embedder)
    index = open_index(settings.index_dir, embedder)
    got = index.collection.get(include=["documents", "metadatas"])
    for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
        body = index.articles[meta["article_id"]].body
        assert body[meta["start"] : meta["end"]] == doc == index.chunk(cid).text


def test_missing_index_says_how_to_build_one(settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    with pytest.raises(IndexMissingError, match="newsdesk index rebuild"):
        open_index(settings.index_dir, embedder)


def test_index_built_with_another_model_is_refused(settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    rebuild([SEEDS], settings, embedder=embedder)
    manifest_path = IndexPaths(settings.index_dir).live_generation() / "manifest.json"  # type: ignore[operator]
    data = json.loads(manifest_path.read_text())
    data.update(model_id="intfloat/e5-small-v2", dimension=384)
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="Rebuild the index"):
        open_index(settings.index_dir, embedder)


def test_index_from_an_earlier_format_asks_for_a_rebuild(settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    rebuild([SEEDS], settings, embedder=embedder)
    live = IndexPaths(settings.index_dir).live_generation()
    assert live is not None
    data = json.loads((live / "manifest.json").read_text())
    del data["files"]["lookup.sqlite"]
    (live / "manifest.json").write_text(json.dumps(data))
    (live / "lookup.sqlite").unlink()
    with pytest.raises(IndexMismatchError, match="earlier version of newsdesk"):
        open_index(settings.index_dir, embedder)
    with pytest.raises(IndexMismatchError, match="earlier version of newsdesk"):
        serving_generation(settings.index_dir)
    report = rebuild([SEEDS], settings, embedder=embedder)  # a rebuild replaces it (nothing reused from it)
    assert report.reused == 0 and open_index(settings.index_dir, embedder).articles


def test_empty_archive_leaves_the_live_index_unchanged(settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    rebuild([SEEDS], settings, embedder=embedder)
    live = IndexPaths(settings.index_dir).live_generation()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "blank.txt").write_text("   ")
    with pytest.raises(BadInputError, match="No articles were found"):
        rebuild([tmp_path / "empty"], settings, embedder=embedder)
    assert IndexPaths(settings.index_dir).live_generation() == live
    assert [p.name for p in IndexPaths(settings.index_dir).generations.iterdir()] == [live.name]  # type: ignore[union-attr]


def test_duplicates_are_stored_once_and_ids_kept_unique(settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    (archive / "a").mkdir(parents=True)
    (archive / "b").mkdir()
    seed_text = (SEEDS / "000_1188ee5dcc83ef1c.txt").read_text(encoding="utf-8")
    (archive / "a" / "story.txt").write_text(seed_text, encoding="utf-8")
    (archive / "b" / "copy.txt").write_text(seed_text, encoding="utf-8")
    (archive / "b" / "story.txt").write_text("Another story\n\nA different article with the same file name.", encoding="utf-8")
    report = rebuild([archive], settings, embedder=embedder)
    assert report.articles == 2 and len(report.duplicates) == 1
    assert "same text as" in report.duplicates[0].reason
    index = open_index(settings.index_dir, embedder)
    assert set(index.articles) == {"story", "story~2"}


def test_more_chunks_than_a_chroma_batch_are_batched(settings: Settings, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_writer, "CHROMA_MAX_BATCH", 2)
    report = rebuild([SEEDS], settings, embedder=embedder)
    assert open_index(settings.index_dir, embedder).collection.count() == report.chunks > 2


def test_a_second_writer_is_refused_at_once(settings: Settings) -> None:
    paths = IndexPaths(settings.index_dir)
    with writer_lock(paths):
        started = time.monotonic()
        with pytest.raises(IndexLockedError, match=r"pid \d+"), writer_lock(paths):
            pass
        assert time.monotonic() - started < 1


def _env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "NEWSDESK_INDEX_DIR": str(settings.index_dir), "PYTHONPATH": str(REPO)}


@pytest.mark.slow
def test_kill_9_during_rebuild_leaves_the_old_index_answering(
    settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    rebuild([SEEDS], settings, embedder=embedder)
    paths = IndexPaths(settings.index_dir)
    old = paths.live_generation()
    for wait_for_chunks in (False, True):
        before = {p.name for p in paths.generations.iterdir()}
        log = tmp_path / f"rebuild-{wait_for_chunks}.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen([*NEWSDESK, "index", "rebuild", str(HORNE), str(SEEDS)], env=_env(settings), cwd=REPO,
                                    stdout=sink, stderr=sink)
        _wait_for_writer(paths, proc, wait_for_chunks, log, before)
        # A second writer meanwhile is refused at once, naming the holder.
        second = subprocess.run([*NEWSDESK, "index", "rebuild", str(SEEDS)], env=_env(settings), cwd=REPO,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == IndexLockedError.exit_code and "pid" in second.stderr
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert paths.live_generation() == old
        answer = Newsdesk(settings, embedder).ask(QUESTION)
        assert any("250,000 civilians" in q.text for q in answer.quotes)
    # after the killed writers, a rebuild still succeeds and clears their leftovers (a slice of the archive
    # is enough for that: the whole of it was only needed to keep the killed writers busy)
    part = tmp_path / "horne-part.jsonl"
    part.write_text("".join(HORNE.read_text(encoding="utf-8").splitlines(keepends=True)[:40]), encoding="utf-8")
    report = rebuild([part, SEEDS], settings, embedder=embedder)
    index = open_index(settings.index_dir, embedder)
    assert paths.live_generation() != old
    assert len(index.articles) == report.articles == 41
    ids = index.collection.get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == report.chunks
    assert len(list(paths.generations.iterdir())) <= store_writer.KEEP_GENERATIONS


def _wait_for_writer(
    paths: IndexPaths, proc: subprocess.Popen[bytes], wait_for_chunks: bool, log: Path, before: set[str]
) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        building = [p for p in paths.generations.iterdir() if p.name not in before]
        if building and (not wait_for_chunks or _chunks_written(building[0]) > 0):
            return
        time.sleep(0.2)
    raise AssertionError("the rebuild never started writing")


def _chunks_written(generation: Path) -> int:
    path = generation / "chunks.jsonl"
    return path.stat().st_size if path.exists() else 0
