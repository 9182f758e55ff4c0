"""Building on a real Ray cluster on 127.0.0.1: a head started here (no CPUs of its own) and two
worker nodes, each `ray start --block` in its own process group. A Ray build must write the same
generation as a local one, an update must send only new and changed articles to the workers, a
worker node killed mid-build must not change the result, and a build whose workers are all gone
must fail and leave the live index as it was.

All of Ray's traffic stays on 127.0.0.1: every process runs with RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0,
which keeps the loopback address as given. Ray's own `ray start` refuses to add a worker node with
that setting (it takes it to mean "single-machine only"), so a worker node is started by the same
command through ``helpers.RAY_LOOPBACK_NODE``: it reads the setting as 1 when ray is imported, which lets the command
add the node, sets it back to 0 for every process the node starts, and keeps the
``--node-ip-address=127.0.0.1`` it is given instead of replacing it by the machine's network address.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from helpers import HORNE, RAY_LOOPBACK_NODE, free_port

from assistant import distributed
from assistant.config import Settings
from assistant.distributed import encode_chunks, plan_chunks
from assistant.embedding import OnnxEmbedder
from assistant.errors import ConfigError, NewsdeskError
from assistant.indexing import BuildReport, rebuild
from assistant.records import Article
from assistant.sources import read_file
from assistant.store import IndexPaths, open_index

pytestmark = pytest.mark.slow

RAY = Path(sys.executable).parent / "ray"
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0",
           # a killed node is declared dead after ~3 s instead of ~30 s, so its actors restart sooner
           "RAY_health_check_period_ms": "1000", "RAY_health_check_failure_threshold": "3"}
ARTICLES, ARTICLES_PER_FILE = 16, 4



@dataclass
class Node:
    """One `ray start --block` process and everything it starts, in a process group of its own."""

    command: list[str]
    proc: subprocess.Popen[bytes] | None = None

    def start(self, log: Path) -> None:
        with log.open("ab") as out:
            self.proc = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **RAY_ENV},
                                         start_new_session=True)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def stop(self) -> None:
        """SIGTERM to the group, a few seconds, then SIGKILL (raylet and gcs_server outlive a SIGTERM)."""
        if self.proc is None:
            return
        self.kill(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        time.sleep(1)
        self.kill(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None


class Cluster:
    """A head on 127.0.0.1 (driver only: no CPUs) and worker nodes of two CPUs each."""

    def __init__(self) -> None:
        self.temp = Path(tempfile.mkdtemp(prefix="nd-ray-"))  # short: Ray's socket paths live under it
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.head = Node([str(RAY), "start", "--block", "--head", f"--port={self.port}", "--num-cpus=0",
                          "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={self.temp}",
                          f"--ray-client-server-port={free_port()}", *self.common()])
        self.workers: list[Node] = []

    @staticmethod
    def common() -> list[str]:
        """Options of every node: loopback only, a small object store, ports the OS says are free (Ray's
        defaults are fixed numbers, which another cluster on this machine may hold)."""
        return ["--node-ip-address=127.0.0.1", f"--object-store-memory={256 * 2**20}",
                f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
                f"--metrics-export-port={free_port()}", f"--runtime-env-agent-port={free_port()}"]

    def worker_node(self) -> Node:
        return Node([sys.executable, "-c", RAY_LOOPBACK_NODE, "start", "--block", f"--address={self.address}", "--num-cpus=2", *self.common()])

    def start(self, workers: int) -> None:
        self.head.start(self.temp / "head.log")
        self.wait_for_cpus(0)
        for _ in range(workers):
            self.add_worker()

    def add_worker(self) -> None:
        node = self.worker_node()
        node.start(self.temp / f"worker{len(self.workers)}.log")
        self.workers.append(node)
        self.wait_for_cpus(2 * sum(w.proc is not None for w in self.workers))

    def wait_for_cpus(self, cpus: int) -> None:
        """Until the cluster answers and offers ``cpus`` CPUs (asked by a short-lived driver of its own)."""
        code = ("import ray, sys, time\nray.init(address=sys.argv[1], logging_level='ERROR')\n"
                "while int(ray.cluster_resources().get('CPU', 0)) != int(sys.argv[2]): time.sleep(0.3)\n")
        subprocess.run([sys.executable, "-c", code, self.address, str(cpus)], check=True, timeout=120, capture_output=True,
                       env={**os.environ, **RAY_ENV})

    def stop(self) -> None:
        for node in [*self.workers, self.head]:
            node.stop()
        shutil.rmtree(self.temp, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def small_batches() -> Iterator[None]:
    """About two articles per encode call, so that a small archive keeps both encoders busy with several calls."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(distributed, "ENCODE_BATCH_CHARS", 8000)
        yield


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    c = Cluster()
    try:
        c.start(workers=2)
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 Horne articles in 4 files, and a file with a bad line, a record without a body, an id taken
    by an earlier article (indexed as id~2) and an exact duplicate."""
    folder = tmp_path_factory.mktemp("ray-archive")
    rows = [json.loads(line) for line in HORNE.read_text(encoding="utf-8").splitlines()[:ARTICLES]]
    for i in range(0, len(rows), ARTICLES_PER_FILE):
        part = rows[i : i + ARTICLES_PER_FILE]
        (folder / f"part{i // ARTICLES_PER_FILE}.jsonl").write_text("\n".join(json.dumps(r) for r in part), encoding="utf-8")
    odd = [json.dumps({**rows[0], "body": "A different story under a taken id. " * 20}), "{not json",
           json.dumps({"id": "nobody", "title": "No body"}), json.dumps(rows[3])]
    (folder / "zz-odd.jsonl").write_text("\n".join(odd), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def embedder(models: Path) -> OnnxEmbedder:
    """The packaged model on ONNX (the same vectors as torch), exported once: an actor loads it in about a
    second, where torch takes many, so each build here starts its encoders quickly."""
    e = OnnxEmbedder(models, "onnx-fp32")
    e.embed_batch(["warm up"])
    return e


def on_ray(cluster: Cluster, index_dir: Path, models: Path) -> Settings:
    """Settings of a build on ``cluster`` into ``index_dir``, whose ONNX export is the one made once (``models``)."""
    index_dir.mkdir(parents=True)
    (index_dir / ".models").symlink_to(models)
    return Settings.from_env(index_dir=index_dir, embed_backend="onnx-fp32", ray_address=cluster.address, ray_encoders=2)


@dataclass(frozen=True)
class Generation:
    articles: list[str]
    chunk_ids: list[str]
    texts: list[str]
    vectors: np.ndarray
    sentences: np.ndarray
    sentence_vectors: np.ndarray
    built_with: dict[str, object]


def generation(index_dir: Path, embedder: OnnxEmbedder) -> Generation:
    index = open_index(index_dir, embedder)
    ids = [index.chunk_rows[i].id for i in range(len(index.chunk_rows))]
    return Generation([a.id for a in index.articles.stream()], ids, [index.chunk(c).text for c in ids], index.vectors(ids),
                      np.asarray(index.sentence_rows), np.asarray(index.sentence_vectors, dtype=np.float32),
                      index.manifest.built_with)


def assert_same(ray: Generation, local: Generation) -> None:
    assert ray.articles == local.articles
    assert ray.chunk_ids == local.chunk_ids and ray.texts == local.texts
    assert np.array_equal(ray.sentences, local.sentences)
    assert np.allclose(ray.vectors, local.vectors, atol=1e-5)
    assert np.allclose(ray.sentence_vectors, local.sentence_vectors, atol=2e-3)  # stored as float16


@pytest.fixture(scope="module")
def local_build(archive: Path, embedder: OnnxEmbedder, tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[BuildReport, Generation]:
    index_dir = tmp_path_factory.mktemp("local") / "index"
    report = rebuild([archive], Settings.from_env(index_dir=index_dir), embedder=embedder)
    return report, generation(index_dir, embedder)


@pytest.fixture(scope="module")
def ray_build(cluster: Cluster, archive: Path, embedder: OnnxEmbedder, models: Path,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, BuildReport, Generation]:
    settings = on_ray(cluster, tmp_path_factory.mktemp("ray") / "index", models)
    report = rebuild([archive], settings, embedder=embedder)
    return settings, report, generation(settings.index_dir, embedder)


def test_a_ray_build_writes_the_generation_a_local_build_writes(
    ray_build: tuple[Settings, BuildReport, Generation], local_build: tuple[BuildReport, Generation]
) -> None:
    _, report, got = ray_build
    local_report, want = local_build
    assert report.articles == local_report.articles == ARTICLES + 1 and report.embedded == report.chunks == local_report.chunks
    assert "buzzfeed/Fake/10_Fake~2#0" in got.chunk_ids  # the renamed article's chunks carry its new id
    assert_same(got, want)
    assert got.built_with == {"ray": ray_build[0].ray_address, "encoders": 2} and want.built_with == {}


LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}  # as /proc/net/* writes them


def sockets_of(pids: set[int]) -> list[tuple[int, str]]:
    """(pid, local address in /proc/net hex) of every TCP and UDP socket the processes ``pids`` hold."""
    inodes: dict[str, int] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes[target[8:-1]] = pid
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                found.append((inodes[fields[9]], fields[1].split(":")[0]))
    return found


def test_every_socket_of_the_cluster_is_on_loopback(cluster: Cluster, ray_build: tuple[Settings, BuildReport, Generation]) -> None:
    """Head, worker nodes, their agents and worker processes: every socket bound to 127.0.0.1."""
    pids = {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and str(cluster.temp).encode() in _cmdline(p)}
    sockets = sockets_of(pids)
    assert len({pid for pid, _ in sockets}) > 5  # the processes of three nodes were found
    assert [(pid, address) for pid, address in sockets if address not in LOOPBACK] == []


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


def test_bad_records_are_reported_at_their_file_and_line_as_locally(
    ray_build: tuple[Settings, BuildReport, Generation], local_build: tuple[BuildReport, Generation], archive: Path
) -> None:
    _, report, _ = ray_build
    local_report, _ = local_build
    odd = archive / "zz-odd.jsonl"
    assert [str(p) for p in report.rejected] == [str(p) for p in local_report.rejected] == [
        f"{odd}:2: invalid JSON (Expecting property name enclosed in double quotes at column 2)",
        f"{odd}:3: record has no article body (expected one of: body, content, text, article, maintext)",
    ]
    assert [str(p) for p in report.duplicates] == [str(p) for p in local_report.duplicates]
    assert [str(p) for p in report.notices] == [str(p) for p in local_report.notices]
    assert any(f"{odd}:1: article id 'buzzfeed/Fake/10_Fake' already used" in str(p) for p in report.notices)
    assert any(f"{odd}:4: same text as" in str(p) for p in report.duplicates)


def test_a_ray_update_encodes_only_new_and_changed_articles(
    ray_build: tuple[Settings, BuildReport, Generation], archive: Path, cluster: Cluster,
    embedder: OnnxEmbedder, tmp_path: Path
) -> None:
    settings, _, before = ray_build
    rows = [json.loads(line) for line in (archive / "part1.jsonl").read_text(encoding="utf-8").splitlines()]
    changed = [{**rows[2], "body": rows[2]["body"] + "\n\nThe story was updated with a correction on Friday."},
               {"id": "new/1", "title": "A new story", "body": "A council in Ohio voted on Tuesday to close two schools. " * 8}]
    feed = tmp_path / "part1.jsonl"  # the file as re-sent: one article changed, one new, the rest as they were
    feed.write_text("\n".join(json.dumps(r) for r in [*rows[:2], changed[0], *rows[3:], changed[1]]), encoding="utf-8")
    cli = subprocess.run(  # the command a user types; the driver sets RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 itself
        [sys.executable, "-m", "assistant.cli", "index", "update", str(feed), "--ray", cluster.address,
         "--index-dir", str(settings.index_dir)],
        env={**os.environ, "NEWSDESK_RAY_ENCODERS": "2", "NEWSDESK_EMBED_BACKEND": "onnx-fp32", "COLUMNS": "200"}, capture_output=True, text=True, timeout=600)
    assert cli.returncode == 0, cli.stderr[-3000:]

    expected = [(a, c, s) for a in map(read_one, changed) for c, s in plan_chunks(a, embedder, settings)]
    assert f"{ARTICLES} unchanged articles reused their stored vectors; {len(expected)} chunks encoded." in cli.stdout
    assert generation(settings.index_dir, embedder).built_with == {"ray": cluster.address, "encoders": 2}
    status = subprocess.run([sys.executable, "-m", "assistant.cli", "index", "status", "--index-dir", str(settings.index_dir)],
                            env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True, timeout=120)
    assert f"on a Ray cluster at {cluster.address} (2 encoders)" in status.stdout, status.stdout
    index = open_index(settings.index_dir, embedder)
    vectors, _ = encode_chunks(embedder, expected)
    assert np.allclose(index.vectors([c.id for _, c, _ in expected]), vectors, atol=1e-5)
    unchanged = [c for c in before.chunk_ids if not c.startswith(rows[2]["id"] + "#")]
    assert np.allclose(index.vectors(unchanged), before.vectors[[before.chunk_ids.index(c) for c in unchanged]], atol=1e-6)


def read_one(row: dict[str, str]) -> Article:
    """The article a build reads from ``row``."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "one.jsonl"
        path.write_text(json.dumps(row), encoding="utf-8")
        article = next(iter(read_file(path)))
    assert isinstance(article, Article)
    return article


def kill_when(nodes: list[Node], files_read: int) -> Callable[[str, int, int], None]:
    """A progress callback that SIGKILLs the process groups of ``nodes`` once ``files_read`` files are read."""

    def progress(what: str, done: int, total: int) -> None:
        if what == "files" and done == files_read:
            for node in nodes:
                node.kill()

    return progress


def test_a_worker_node_killed_mid_build_changes_nothing(
    cluster: Cluster, archive: Path, embedder: OnnxEmbedder, local_build: tuple[BuildReport, Generation],
    models: Path, tmp_path: Path
) -> None:
    settings = on_ray(cluster, tmp_path / "index", models)
    report = rebuild([archive], settings, embedder=embedder, progress=kill_when(cluster.workers[1:], files_read=2))
    assert cluster.workers[1].proc is not None and cluster.workers[1].proc.poll() is not None  # the node is gone
    assert report.embedded == local_build[0].chunks
    assert_same(generation(settings.index_dir, embedder), local_build[1])


def test_a_build_whose_workers_are_all_gone_fails_and_leaves_the_live_index(
    cluster: Cluster, archive: Path, embedder: OnnxEmbedder, models: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = on_ray(cluster, tmp_path / "index", models)
    first = tmp_path / "first.jsonl"
    first.write_text(json.dumps({"id": "a", "title": "Kept", "body": "The live index holds this article."}), encoding="utf-8")
    rebuild([first], replace(settings, ray_address=""), embedder=embedder)
    paths = IndexPaths(settings.index_dir)
    live = paths.live_generation()
    monkeypatch.setattr(distributed, "STALL_SECONDS", 15.0)
    with pytest.raises(NewsdeskError, match="Ray cluster"):
        rebuild([archive], settings, embedder=embedder, progress=kill_when(cluster.workers, files_read=1))
    assert paths.live_generation() == live
    assert [p.name for p in paths.generations.iterdir()] == [live.name]  # the unfinished generation was removed
    assert list(open_index(settings.index_dir, embedder).articles) == ["a"]


def test_a_ray_address_without_ray_installed_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets when the extra is not installed
    with pytest.raises(ConfigError, match=r"pip install 'newsdesk\[ray\]'"):
        distributed.RayBuild(Settings.from_env(ray_address="127.0.0.1:1"))


def test_an_address_where_nothing_listens_fails_at_once_and_leaves_the_live_index(
    embedder: OnnxEmbedder, tmp_path: Path
) -> None:
    """A mistyped or stopped cluster is said within seconds (ray.init alone retried for over a minute)."""
    settings = Settings.from_env(index_dir=tmp_path / "index")
    first = tmp_path / "first.jsonl"
    first.write_text(json.dumps({"id": "a", "title": "Kept", "body": "The live index holds this article."}), encoding="utf-8")
    rebuild([first], settings, embedder=embedder)
    live = IndexPaths(settings.index_dir).live_generation()
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(NewsdeskError, match=rf"Cannot reach the Ray cluster at {address}.*nothing answers") as failed:
        rebuild([first], replace(settings, ray_address=address), embedder=embedder)
    assert time.monotonic() - started < 20, "the unreachable address took as long as ray.init's own retries"
    assert "the index was not changed" in str(failed.value)
    assert IndexPaths(settings.index_dir).live_generation() == live
