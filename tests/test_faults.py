"""Fault drills, run against the real CLI, Chroma and file system.

- kill -9 at many points of a rebuild and of an update: the live index answers every probe between
  kills, and the rerun ends with every article exactly once;
- a damaged generation (truncated file) is detected and reported, and the previous one serves;
- a full disk and a read-only index directory give a clean error and leave the live index as it was;
- the chat keeps answering while a rebuild publishes, and then finds the new article;
- ingestion never crashes on fuzzed files, and accounts for every record.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO, SEEDS, assert_quotes_verify
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assistant import store
from assistant.chat import Newsdesk
from assistant.chunking import chunk_article
from assistant.config import Settings
from assistant.dedupe import StoryGrouper
from assistant.embedding import SentenceTransformerEmbedder
from assistant.errors import IndexDamagedError, IndexWriteError
from assistant.indexing import rebuild, update
from assistant.records import Article, Chunk
from assistant.sources import Problem, read_file
from assistant.store import ChunkBatch, GenerationWriter, IndexPaths, open_index
from assistant.terminal import status_json as status

SEED_ID = "000_1188ee5dcc83ef1c"
DRILL_SEED = int(os.environ.get("NEWSDESK_DRILL_SEED", "20161005"))  # kill delays are random, but replayable

# ---- a small generated archive ---------------------------------------------------------------

TOWNS = ["Alderby", "Brookmere", "Castleford", "Dunmore", "Eastwick", "Fairhaven", "Glenrock", "Harrowgate", "Ironbridge",
         "Juniper Falls", "Kingsbury", "Larkhill", "Millbrook", "Northam", "Oakridge", "Pinecrest", "Queensferry", "Redcliff",
         "Stonehaven", "Thornbury", "Upton Vale", "Westmarch", "Yarrowby", "Zennor", "Ashcombe", "Bramley", "Coldwater",
         "Dovercourt", "Elmstead", "Foxley", "Greyport", "Hollowell", "Ivybridge", "Kestrel Bay", "Lindholm", "Marlow Cross",
         "Netherby", "Ormsby", "Pellworth", "Ravensfield", "Saltmarsh", "Tillingham", "Underhill", "Valemouth", "Wrenfield"]
TEMPLATES = [
    ("{town} harbour strike", "The harbour authority of {town} said {n:,} containers were held at the docks on Monday. Officials "
     "blamed a strike by crane operators at the {town} terminal. Shipping firms diverted vessels to other ports while talks "
     "continued. The union said its members wanted better shift patterns."),
    ("{town} school roof", "Engineers closed {n} classrooms at {town} Secondary School after cracks were found in the roof beams. "
     "Pupils were moved to temporary cabins on the playing field. The council said repairs would take most of the autumn term. "
     "Parents asked why an inspection last year had found nothing."),
    ("{town} bridge vote", "Councillors in {town} voted {n} to 9 to replace the old river bridge with a wider crossing. The new "
     "bridge will carry a cycle lane and a bus route. Opponents said the cost had doubled since the plan was first drawn up. "
     "Work is due to start next spring."),
    ("{town} festival crowds", "Organisers of the {town} summer festival counted {n:,} visitors over three days. Traffic queued for "
     "hours on the ring road into {town}. Police said the weekend passed without serious incident. Local cafes reported their "
     "busiest trading since the festival began."),
]


def story(i: int, note: str = "") -> dict[str, str]:
    town = TOWNS[i]
    title, body = TEMPLATES[i % len(TEMPLATES)]
    n = 1000 + 37 * i if i % 4 in (0, 3) else 3 + i
    return {"id": f"story-{i:02d}", "title": title.format(town=town), "publisher": ["Coast Times", "Valley Herald"][i % 2],
            "published_at": f"2016-10-{1 + i % 28:02d}", "body": (body.format(town=town, n=n) + " " + note).strip()}


def corrected(i: int) -> dict[str, str]:
    """Story ``i`` rewritten (an edited article re-ingested by an update)."""
    town = TOWNS[i]
    return {**story(i), "body": f"{town} council published a correction on Friday: inspectors found {20 + i} cracked beams in "
            f"the {town} library roof, and the library will stay shut until March while the roof is rebuilt."}


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


FEED_SIZE = 40
PROBES = [
    ("How many civilians are trapped in eastern Aleppo?", "more than 250,000 civilians are trapped"),
    ("How many containers were held at the docks of Alderby?", "1,000 containers"),
    ("How many visitors did the Dunmore summer festival count?", "1,111 visitors"),
]


def feed(tmp: Path) -> Path:
    return write_jsonl(tmp / "feed.jsonl", [story(i) for i in range(FEED_SIZE)])


def expected_ids() -> set[str]:
    return {f"story-{i:02d}" for i in range(FEED_SIZE)} | {SEED_ID}


def assert_probes_answer(desk: Newsdesk, probes: list[tuple[str, str]] = PROBES) -> None:
    for question, quote in probes:
        answer = desk.ask(question)
        assert any(quote in q.text for q in answer.quotes), f"{question!r} lost its answer: {answer.text[:200]}"
        assert_quotes_verify(answer, desk.index)


def assert_exactly_once(settings: Settings, embedder: SentenceTransformerEmbedder, articles: set[str]) -> store.Index:
    """The live generation holds these articles once each, Chroma and the local files agreeing with the manifest."""
    index = open_index(settings.index_dir, embedder)
    assert not index.notice
    m = index.manifest
    assert set(index.articles) == articles and m.articles == len(articles)
    ids = index.collection.get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == m.chunks == len(index.chunk_rows) == index.collection.count()
    assert set(ids) == {row.id for row in index.chunk_rows}
    assert {row.article_id for row in index.chunk_rows} == articles
    paths = IndexPaths(settings.index_dir)
    assert all((p / "manifest.json").is_file() for p in paths.generations.iterdir())  # no unfinished build left
    assert len(list(paths.generations.iterdir())) <= store.KEEP_GENERATIONS
    return index


# ---- kill -9 ---------------------------------------------------------------------------------

# The real CLI, with the encoder fed 4 chunks at a time instead of 256, so that a small archive is
# written in many Chroma batches and a kill can land between committed batches.
CLI_SMALL_BATCHES = [sys.executable, "-c", "import sys, assistant.indexing as i; i.EMBED_BATCH_CHUNKS = 4; "
                     "from assistant.cli import main; sys.argv[0] = 'newsdesk'; main()"]


def cli_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "NEWSDESK_INDEX_DIR": str(settings.index_dir), "PYTHONPATH": str(REPO)}


def reached(point: str, paths: IndexPaths, before: set[str], live: str) -> bool:
    """Has the writer reached this observable point?"""
    if point == "published":
        return paths.live.read_text().strip() != live
    new = [p for p in paths.generations.iterdir() if p.name not in before]
    if not new:
        return False
    g = new[0]
    return {
        "started": True,
        "writing": (g / "sentences.f16").is_file() and (g / "sentences.f16").stat().st_size > 0,
        "finishing": (g / "groups.json").is_file(),
        "complete": (g / "manifest.json").is_file(),
    }[point]


def kill_at(args: list[str], settings: Settings, point: str, delay: float, log: Path) -> str:
    """Run the CLI and SIGKILL it ``delay`` seconds after it reaches ``point``; what happened, for messages."""
    paths = IndexPaths(settings.index_dir)
    before = {p.name for p in paths.generations.iterdir()}
    live = paths.live.read_text().strip()
    with log.open("wb") as sink:
        proc = subprocess.Popen([*CLI_SMALL_BATCHES, *args], env=cli_env(settings), cwd=REPO, stdout=sink, stderr=sink)
    deadline = time.monotonic() + 300
    while proc.poll() is None and not reached(point, paths, before, live):
        assert time.monotonic() < deadline, f"the writer never reached {point}"
        time.sleep(0.01)
    time.sleep(delay)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if finished:
        assert proc.returncode == 0, log.read_text()[-3000:]
    return f"{point}+{delay:.2f}s ({'had finished' if finished else 'killed'})"


def assert_serving_after_kill(settings: Settings, embedder: SentenceTransformerEmbedder, desk: Newsdesk, what: str) -> None:
    paths = IndexPaths(settings.index_dir)
    live = paths.live_generation()
    assert live is not None and (live / "manifest.json").is_file(), f"after {what}: LIVE names an unfinished generation"
    assert not open_index(settings.index_dir, embedder).notice, f"after {what}: the live generation is damaged"
    assert_probes_answer(desk)  # the long-lived chat, which follows LIVE
    assert_probes_answer(Newsdesk(settings, embedder), PROBES[:1])  # and a fresh one


@pytest.mark.slow
def test_kill_9_at_many_points_of_a_rebuild(settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    rebuild([SEEDS], settings, embedder=embedder)
    archive = feed(tmp_path)
    desk = Newsdesk(settings, embedder)
    rng = random.Random(DRILL_SEED)
    plan = [("started", rng.uniform(0, 8)), ("writing", rng.uniform(0, 0.5)), ("writing", rng.uniform(0.5, 2)),
            ("finishing", rng.uniform(0, 0.2)), ("complete", 0.0), ("published", 0.0)]
    done = []
    for n, (point, delay) in enumerate(plan):
        done.append(kill_at(["index", "rebuild", str(archive), str(SEEDS)], settings, point, delay, tmp_path / f"kill-{n}.log"))
        if paths_live_has(settings, "story-00"):
            assert_serving_after_kill(settings, embedder, desk, ", ".join(done))
        else:
            assert_serving_after_kill_seed_only(settings, embedder, desk, ", ".join(done))
    print("kills:", "; ".join(done))
    assert sum("killed" in d for d in done) >= len(plan) - 1, done  # the points were reached while the writer ran
    report = rebuild([archive, SEEDS], settings, embedder=embedder)
    assert report.articles == FEED_SIZE + 1
    assert_exactly_once(settings, embedder, expected_ids())
    assert_probes_answer(desk)


def paths_live_has(settings: Settings, article_id: str) -> bool:
    live = IndexPaths(settings.index_dir).live_generation()
    assert live is not None
    return f'"id": "{article_id}"' in (live / "articles.jsonl").read_text(encoding="utf-8")


def assert_serving_after_kill_seed_only(settings: Settings, embedder: SentenceTransformerEmbedder, desk: Newsdesk, what: str) -> None:
    """Before any killed rebuild published, the live index is still the seed-only one."""
    live = IndexPaths(settings.index_dir).live_generation()
    assert live is not None and (live / "manifest.json").is_file(), f"after {what}: LIVE names an unfinished generation"
    assert not open_index(settings.index_dir, embedder).notice, f"after {what}: the live generation is damaged"
    assert_probes_answer(desk, PROBES[:1])
    assert_probes_answer(Newsdesk(settings, embedder), PROBES[:1])


@pytest.mark.slow
def test_kill_9_at_many_points_of_an_update(settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    rebuild([feed(tmp_path), SEEDS], settings, embedder=embedder)
    changed = [1, 2, 5]
    more = write_jsonl(tmp_path / "more.jsonl", [story(i) for i in range(FEED_SIZE, FEED_SIZE + 5)]
                       + [corrected(i) for i in changed])
    desk = Newsdesk(settings, embedder)
    rng = random.Random(DRILL_SEED + 1)
    plan = [("started", rng.uniform(0, 1.5)), ("writing", rng.uniform(0, 0.3)), ("finishing", rng.uniform(0, 0.1)), ("published", 0.0)]
    done = []
    for n, (point, delay) in enumerate(plan):
        done.append(kill_at(["index", "update", str(more)], settings, point, delay, tmp_path / f"kill-{n}.log"))
        assert_serving_after_kill(settings, embedder, desk, ", ".join(done))
    print("kills:", "; ".join(done))
    assert sum("killed" in d for d in done) >= len(plan) - 1, done
    update([more], settings, embedder=embedder)
    index = assert_exactly_once(settings, embedder, expected_ids() | {f"story-{i:02d}" for i in range(FEED_SIZE, FEED_SIZE + 5)})
    docs = index.collection.get(include=["documents", "metadatas"])
    for i in changed:  # the new text is indexed, and no chunk of the old text is left
        texts = [d for d, meta in zip(docs["documents"], docs["metadatas"], strict=True) if meta["article_id"] == f"story-{i:02d}"]
        assert texts and all("cracked beams" in t for t in texts) and index.articles[f"story-{i:02d}"].body == corrected(i)["body"]
    assert_probes_answer(desk, [*PROBES, ("How many cracked beams did inspectors find in the Brookmere library roof?",
                                          "21 cracked beams")])


# ---- damaged generations ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_generations(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Path:
    """An index whose previous generation holds the seed and whose live one also holds the feed."""
    root = tmp_path_factory.mktemp("damaged")
    s = Settings.from_env(index_dir=root / "index")
    rebuild([SEEDS], s, embedder=embedder)
    rebuild([feed(root), SEEDS], s, embedder=embedder)
    return root / "index"


def copy_index(source: Path, settings: Settings) -> tuple[Path, Path]:
    """(previous, live) generation directories of a fresh copy of ``source`` at ``settings.index_dir``."""
    shutil.copytree(source, settings.index_dir)
    paths = IndexPaths(settings.index_dir)
    live = paths.live_generation()
    assert live is not None
    previous = next(p for p in paths.complete_generations() if p != live)
    return previous, live


def truncate(path: Path, fraction: float = 0.5) -> None:
    os.truncate(path, int(path.stat().st_size * fraction))


@pytest.mark.parametrize("damaged", ["chroma/chroma.sqlite3", "chunks.jsonl", "articles.jsonl", "sentences.f16", "sentences.i32",
                                     "bm25/data.csc.index.npy"])
def test_damaged_live_generation_is_reported_and_the_previous_serves(
    two_generations: Path, settings: Settings, embedder: SentenceTransformerEmbedder, damaged: str
) -> None:
    previous, live = copy_index(two_generations, settings)
    truncate(live / damaged)
    index = open_index(settings.index_dir, embedder)
    assert index.dir == previous
    assert live.name in index.notice and "damaged" in index.notice and "newsdesk index rebuild" in index.notice
    desk = Newsdesk(settings, embedder)
    assert_probes_answer(desk, PROBES[:1])
    assert live.name in desk.index.notice  # the chat can show it; asking again does not reopen in a loop
    assert desk.index is desk.index
    if not damaged.startswith("chroma/"):  # status reads manifests and file sizes only, never Chroma
        info = status(settings)
        assert info["generation"] == previous.name and live.name in info["notice"]
    rebuild([two_generations.parent / "feed.jsonl", SEEDS], settings, embedder=embedder)  # a rebuild repairs it
    assert_exactly_once(settings, embedder, expected_ids())
    assert_probes_answer(Newsdesk(settings, embedder))


def test_update_refuses_to_build_on_a_damaged_live_generation(
    two_generations: Path, settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    """Updating the previous generation instead would silently drop what only the damaged one held."""
    _, live = copy_index(two_generations, settings)
    truncate(live / "chunks.jsonl")
    more = write_jsonl(tmp_path / "more.jsonl", [story(FEED_SIZE)])
    with pytest.raises(IndexDamagedError, match="newsdesk index rebuild"):
        update([more], settings, embedder=embedder)
    assert IndexPaths(settings.index_dir).live_generation() == live


def test_damaged_only_generation_says_how_to_rebuild(settings: Settings, embedder: SentenceTransformerEmbedder) -> None:
    rebuild([SEEDS], settings, embedder=embedder)
    live = IndexPaths(settings.index_dir).live_generation()
    assert live is not None
    truncate(live / "chunks.jsonl")
    with pytest.raises(IndexDamagedError, match=r"damaged.*newsdesk index rebuild"):
        Newsdesk(settings, embedder).ask(PROBES[0][0])
    with pytest.raises(IndexDamagedError, match="newsdesk index rebuild"):
        status(settings)


def synthetic_generation(settings: Settings, embedder: SentenceTransformerEmbedder, n: int) -> Path:
    """A finished generation of ``n`` one-chunk articles with random unit vectors, written through
    GenerationWriter: enough vectors (> Chroma's sync threshold of 1000) for Chroma to persist its
    HNSW segment and drop the log, so the segment files alone hold the vectors."""
    paths = IndexPaths(settings.index_dir)
    rng = np.random.default_rng(0)
    with store.writer_lock(paths):
        writer = GenerationWriter(paths, embedder)
        grouper = StoryGrouper()
        sentences = 0
        for start in range(0, n, 500):
            articles = [Article(f"syn-{i}", f"Item {i}", f"Synthetic article number {i}.", None, None, None, None, None, "syn", i)
                        for i in range(start, min(n, start + 500))]
            chunks = [Chunk(a.id, 0, 0, len(a.body), a.body) for a in articles]
            vectors = rng.normal(size=(len(chunks), embedder.dimension)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            for a in articles:
                writer.add_article(a)
                grouper.add(a)
            writer.add_chunks(ChunkBatch(articles, chunks, vectors,
                                         [c.text for c in chunks], [[(0, c.end)] for c in chunks], [v[None, :] for v in vectors]))
            sentences += len(chunks)
        manifest = replace(open_index(settings.index_dir, embedder).manifest, articles=n, chunks=n, sentences=sentences,
                           sources=["synthetic"])
        writer.finish(manifest, grouper.groups())
        writer.publish()
    return writer.dir


@pytest.mark.parametrize("segment_file", ["data_level0.bin", "length.bin"])
def test_truncated_hnsw_segment_is_detected(
    two_generations: Path, settings: Settings, embedder: SentenceTransformerEmbedder, segment_file: str
) -> None:
    """Unchecked, Chroma crashed the process (SIGSEGV) opening a truncated data_level0.bin in 3 of 4 runs."""
    _, feed_generation = copy_index(two_generations, settings)
    live = synthetic_generation(settings, embedder, 1200)
    # Whole, it opens and passes the probe (checked on a copy: this process would keep the segment cached).
    whole = replace(settings, index_dir=settings.index_dir.parent / "whole")
    shutil.copytree(settings.index_dir, whole.index_dir)
    assert open_index(whole.index_dir, embedder).dir.name == live.name
    truncate(next((live / "chroma").glob(f"*/{segment_file}")))
    index = open_index(settings.index_dir, embedder)
    assert index.dir == feed_generation and live.name in index.notice and "damaged vector index" in index.notice
    assert_probes_answer(Newsdesk(settings, embedder))


@pytest.mark.slow
def test_cli_reports_damage_without_a_traceback(
    two_generations: Path, settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    _, live = copy_index(two_generations, settings)
    truncate(live / "chroma" / "chroma.sqlite3")
    env = cli_env(settings)
    ask = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", PROBES[0][0]], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert ask.returncode == 0, ask.stderr
    assert PROBES[0][1] in " ".join(ask.stdout.split())
    assert live.name in ask.stderr and "newsdesk index rebuild" in ask.stderr and "Traceback" not in ask.stderr
    truncate(live / "chunks.jsonl")
    shown = subprocess.run([sys.executable, "-m", "assistant.cli", "index", "status"], env=env, cwd=REPO,
                           capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0 and live.name in " ".join(shown.stdout.split()), shown.stdout + shown.stderr
    for generation in IndexPaths(settings.index_dir).complete_generations():  # now nothing can serve
        truncate(generation / "chunks.jsonl")
    ask = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", PROBES[0][0]], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert ask.returncode == IndexDamagedError.exit_code
    assert "newsdesk index rebuild" in ask.stderr and "Traceback" not in ask.stderr


# ---- a full disk, a read-only directory ----------------------------------------------------------


@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real small file system (tests run as root here); skipped where mounting is not allowed."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): the full-disk and read-only drills need one")
    try:
        yield where
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(where)], capture_output=True)
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(disk: Path, leave: int) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(0, shutil.disk_usage(disk).free - leave))
    return filler


def test_full_disk_is_a_clean_error_and_the_live_index_stays(
    settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    archive = feed(tmp_path)
    with tmpfs(tmp_path / "disk", "3m") as disk:
        s = replace(settings, index_dir=disk / "index")
        rebuild([SEEDS], s, embedder=embedder)
        paths = IndexPaths(s.index_dir)
        live = paths.live_generation()
        serving = Newsdesk(s, embedder)  # the app, running before the disk filled up
        assert_probes_answer(serving, PROBES[:1])
        # Different amounts of room make the build fail at different points: the lock, the new
        # generation's directory, Chroma's sqlite file, its segments, our own files.
        for leave in (0, 96 * 1024, 320 * 1024, 600 * 1024):
            filler = fill(disk, leave)
            with pytest.raises(IndexWriteError, match=r"is unchanged") as failed:
                rebuild([archive, SEEDS], s, embedder=embedder)
            assert "Traceback" not in str(failed.value) and str(s.index_dir) in str(failed.value)
            assert paths.live_generation() == live
            assert [p.name for p in paths.generations.iterdir()] == [live.name]  # the unfinished build is gone
            assert sorted(p.name for p in paths.root.iterdir()) == ["LIVE", "generations", "writer.lock"]
            assert_probes_answer(serving, PROBES[:1])
            try:  # a process starting now: Chroma writes when it opens a directory, so it may be refused
                assert_probes_answer(Newsdesk(s, embedder), PROBES[:1])
            except IndexWriteError as exc:
                assert "disk is full" in str(exc)
            filler.unlink()
        rebuild([archive, SEEDS], s, embedder=embedder)
        assert_probes_answer(Newsdesk(s, embedder))


def test_read_only_index_directory_is_a_clean_error(
    settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    """chmod does not stop root, so the index sits on a tmpfs remounted read-only."""
    with tmpfs(tmp_path / "disk", "8m") as disk:
        s = replace(settings, index_dir=disk / "index")
        rebuild([SEEDS], s, embedder=embedder)
        live = IndexPaths(s.index_dir).live_generation()
        assert subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True).returncode == 0
        with pytest.raises(IndexWriteError, match=r"Read-only file system.*is unchanged"):
            rebuild([feed(tmp_path), SEEDS], s, embedder=embedder)
        assert IndexPaths(s.index_dir).live_generation() == live
        # The embedded Chroma store cannot even be opened read-only: say so instead of "damaged".
        with pytest.raises(IndexWriteError, match="read-only"):
            Newsdesk(s, embedder).ask(PROBES[0][0])
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        assert_probes_answer(Newsdesk(s, embedder), PROBES[:1])


# ---- serving while a rebuild publishes ----------------------------------------------------------


@pytest.mark.slow
def test_chat_serves_while_a_rebuild_publishes(settings: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    archive = feed(tmp_path)
    rebuild([archive, SEEDS], settings, embedder=embedder)
    paths = IndexPaths(settings.index_dir)
    old = paths.live_generation()
    assert old is not None
    extra = write_jsonl(tmp_path / "extra.jsonl", [{
        "id": "lighthouse", "title": "Wrenfield lighthouse log", "publisher": "Coast Times", "published_at": "2016-10-30",
        "body": "The lighthouse keeper of Wrenfield counted 73 shipwrecks along the reef since records began. "
                "The oldest wreck dates from a storm in the winter of 1881."}])
    desk = Newsdesk(settings, embedder)
    stop = threading.Event()
    seen: list[tuple[str, str]] = []  # (generation, outcome)
    errors: list[BaseException] = []

    def ask_in_a_loop(offset: int) -> None:
        n = offset
        while not stop.is_set():
            question, quote = PROBES[n % len(PROBES)]
            n += 1
            try:
                generation = desk.index.dir.name
                answer = desk.ask(question)
                seen.append((generation, "ok" if any(quote in q.text for q in answer.quotes) else f"lost: {question}"))
            except BaseException as exc:  # every failure is the finding
                errors.append(exc)
                return

    threads = [threading.Thread(target=ask_in_a_loop, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    try:
        log = tmp_path / "rebuild.log"
        with log.open("wb") as sink:
            done = subprocess.run([sys.executable, "-m", "assistant.cli", "index", "rebuild", str(archive), str(extra), str(SEEDS)],
                                  env=cli_env(settings), cwd=REPO, stdout=sink, stderr=sink, timeout=600)
        assert done.returncode == 0, log.read_text()[-3000:]
        new = paths.live_generation()
        assert new is not None and new != old
        settle = time.monotonic() + 60
        while sum(1 for g, _ in seen if g == new.name) < 4 and not errors and time.monotonic() < settle:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors, repr(errors[0])
    assert {g for g, _ in seen} <= {old.name, new.name} and {g for g, _ in seen} >= {new.name}
    assert all(outcome == "ok" for _, outcome in seen), [o for _, o in seen if o != "ok"][:3]
    assert len(seen) > 10
    answer = desk.ask("How many shipwrecks did the lighthouse keeper of Wrenfield count?")
    assert answer.sources and answer.sources[0].article_id == "lighthouse"
    assert any("73 shipwrecks" in q.text for q in answer.quotes)


# ---- ingestion, fuzzed ------------------------------------------------------------------------

FUZZ = hsettings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = ["id", "title", "headline", "body", "text", "content", "publisher", "source", "author", "authors", "date",
        "published_at", "url", "extra"]
values = st.one_of(st.text(max_size=300), st.none(), st.integers(), st.floats(allow_nan=True), st.booleans(),
                   st.lists(st.text(max_size=20), max_size=3))
records = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=50)),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=8)


def ingest(name: str, data: bytes) -> list[Article | Problem]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        out = list(read_file(path))
    assert out, "every file yields at least an Article or a Problem"
    for record in out:
        assert isinstance(record, Article | Problem)
        if isinstance(record, Article):
            assert record.id and record.body.strip() and record.body == record.body.strip()
    return out


def line_of(record: Article | Problem) -> int:
    return record.line if isinstance(record, Article) else int(record.location.rsplit(":", 1)[1])


def assert_chunks_are_the_body(articles: list[Article], embedder: SentenceTransformerEmbedder) -> None:
    for a in articles:
        for c in chunk_article(a, embedder.count_tokens, 200, 1):
            assert a.body[c.start : c.end] == c.text


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".txt", ".md", ".json", ".jsonl", ".csv", ".html"]))
def test_random_bytes_never_crash_ingestion(data: bytes, suffix: str) -> None:
    ingest("random" + suffix, data)


@FUZZ
@given(text=st.text(max_size=2000), encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]))
def test_any_text_page_is_one_article_or_one_problem(text: str, encoding: str, embedder: SentenceTransformerEmbedder) -> None:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    out = ingest("page.txt", data)
    assert len(out) == 1
    assert_chunks_are_the_body([r for r in out if isinstance(r, Article)], embedder)


@FUZZ
@given(lines=st.lists(st.one_of(records.map(json.dumps), json_values.map(json.dumps), st.text(max_size=200)), max_size=15))
def test_every_jsonl_line_is_an_article_or_a_problem(lines: list[str], embedder: SentenceTransformerEmbedder) -> None:
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    out = ingest("feed.jsonl", "\n".join(lines).encode("utf-8"))
    expected = [n for n, line in enumerate(lines, start=1) if line.strip()]
    if len(out) == 1 and isinstance(out[0], Problem) and ("question set" in out[0].reason or not expected):
        return  # no records, or a first line that looks like a question: the whole file is skipped, and said so
    assert sorted(line_of(r) for r in out) == expected
    assert_chunks_are_the_body([r for r in out if isinstance(r, Article)], embedder)


@FUZZ
@given(rows=st.lists(st.lists(st.text(max_size=120), min_size=3, max_size=6), max_size=12))
def test_every_csv_row_is_an_article_or_a_problem(rows: list[list[str]], embedder: SentenceTransformerEmbedder) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "title", "body", "publisher", "date"])
    writer.writerows(rows)
    out = ingest("feed.csv", buffer.getvalue().encode("utf-8"))
    if not rows:
        assert len(out) == 1 and isinstance(out[0], Problem) and "no records" in out[0].reason
        return
    unread = [r for r in out if isinstance(r, Problem) and "rest of the file was not read" in r.reason]
    if unread:
        assert out[-1] is unread[0] and len(out) <= len(rows) + 1
    else:
        assert len(out) == len(rows)
        lines = [line_of(r) for r in out]
        assert lines == sorted(lines)
    assert_chunks_are_the_body([r for r in out if isinstance(r, Article)], embedder)


@FUZZ
@given(items=st.lists(st.one_of(records, json_values), max_size=10))
def test_every_json_list_element_is_an_article_or_a_problem(items: list[object]) -> None:
    out = ingest("feed.json", json.dumps(items, indent=1).encode("utf-8"))
    assert len(out) == max(1, len(items))
