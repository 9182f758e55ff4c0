"""Chroma server mode against a real `chroma run` server on localhost: every generation is a collection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import REPO, SEEDS, ChromaProxy, assert_quotes_verify, free_port

from assistant import store
from assistant.chat import Newsdesk
from assistant.config import Settings
from assistant.embedding import SentenceTransformerEmbedder
from assistant.errors import ChromaUnavailableError, IndexMismatchError
from assistant.indexing import rebuild, update
from assistant.store import ChromaServer, IndexPaths, collection_name, open_index
from assistant.terminal import status_json as status

QUESTION = "How many civilians are trapped in eastern Aleppo?"
CHROMA = Path(sys.executable).parent / "chroma"


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]

    def client(self):  # type: ignore[no-untyped-def]
        return ChromaServer("127.0.0.1", self.port).client()

    def collections(self) -> set[str]:
        return {c.name for c in self.client().list_collections()}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_chroma(data: Path) -> Server:
    """`chroma run` on a free localhost port, returned once its heartbeat answers."""
    port = free_port()
    with (data.parent / f"chroma-{port}.log").open("wb") as log:
        proc = subprocess.Popen([str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"chroma run exited: {(data.parent / f'chroma-{port}.log').read_text()[-2000:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as r:
                if r.status == 200:
                    return Server(port, proc)
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("chroma run never answered its heartbeat")


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_chroma(tmp_path_factory.mktemp("chroma") / "data")
    yield server
    server.stop()


def server_settings(monkeypatch: pytest.MonkeyPatch, port: int) -> Settings:
    monkeypatch.setenv("NEWSDESK_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSDESK_CHROMA_PORT", str(port))
    return Settings.from_env()


def live_manifest(settings: Settings) -> store.Manifest:
    return store.Manifest.load(IndexPaths(settings.index_dir).live_generation() / "manifest.json")  # type: ignore[operator]


@pytest.mark.slow
def test_generations_are_server_collections(
    chroma: Server, monkeypatch: pytest.MonkeyPatch, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    settings = server_settings(monkeypatch, chroma.port)
    paths = IndexPaths(settings.index_dir)
    first = rebuild([SEEDS], settings, embedder=embedder)
    m = live_manifest(settings)
    assert (m.store, m.chroma_server, m.collection) == ("server", f"127.0.0.1:{chroma.port}", collection_name(first.generation))
    assert not (paths.generations / first.generation / "chroma").exists()  # only the vectors moved out
    assert chroma.client().get_collection(m.collection).count() == m.chunks == first.chunks
    assert status(settings)["store"] == f"server 127.0.0.1:{chroma.port}/{m.collection}"

    desk = Newsdesk(settings, embedder)
    answer = desk.ask(QUESTION)
    assert any("more than 250,000 civilians are trapped" in q.text for q in answer.quotes)
    assert_quotes_verify(answer, desk.index)

    # Each rebuild switches LIVE to a new collection; the keep window holds the newest two.
    names = [m.collection]
    for _ in range(store.KEEP_GENERATIONS):
        report = rebuild([SEEDS], settings, embedder=embedder)
        assert report.reused == 1 and report.embedded == 0  # vectors read back from the previous collection
        names.append(live_manifest(settings).collection)
        answer = desk.ask(QUESTION)  # the same Newsdesk follows LIVE
        assert desk.index.manifest.collection == names[-1]
        assert any("more than 250,000 civilians are trapped" in q.text for q in answer.quotes)
    ours = {n for n in chroma.collections() if n in names}
    assert ours == set(names[-store.KEEP_GENERATIONS :]) and names[0] not in chroma.collections()
    assert {collection_name(p.name) for p in paths.generations.iterdir()} == set(names[-store.KEEP_GENERATIONS :])

    # An update cannot copy a collection: the new one gets the unchanged vectors, nothing re-encoded.
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "harbour", "title": "Port Elwin harbour", "publisher": "Coast Times", "body": (
        "The harbour authority of Port Elwin said 4,812 containers were held at the docks on Monday. "
        "Officials blamed a strike by crane operators.")}) + "\n", encoding="utf-8")
    before = live_manifest(settings).collection
    report = update([feed], settings, embedder=embedder)
    assert report.reused == 1 and report.embedded == 1 and report.articles == 2
    m = live_manifest(settings)
    assert m.collection != before and m.store == "server"
    ids = chroma.client().get_collection(m.collection).get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == m.chunks == report.chunks
    answer = desk.ask("How many containers were held at the docks of Port Elwin?")
    assert answer.sources and answer.sources[0].article_id == "harbour"
    assert any("4,812 containers" in q.text for q in answer.quotes)
    assert_quotes_verify(answer, desk.index)

    # The index lives on the server: without the server settings it is refused with a message.
    monkeypatch.delenv("NEWSDESK_CHROMA_HOST")
    with pytest.raises(IndexMismatchError, match=f"Chroma server 127.0.0.1:{chroma.port}"):
        open_index(settings.index_dir, embedder)


@pytest.mark.slow
def test_unreachable_server_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    dead = free_port()
    settings = server_settings(monkeypatch, dead)
    with pytest.raises(ChromaUnavailableError, match=f"127.0.0.1:{dead}"):
        rebuild([SEEDS], settings, embedder=embedder)
    paths = IndexPaths(settings.index_dir)
    assert paths.live_generation() is None and not list(paths.generations.iterdir())  # nothing left behind

    # The CLI says so in one line, with its own exit code and no traceback.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cli = subprocess.run([sys.executable, "-m", "assistant.cli", "index", "rebuild", str(SEEDS)], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == ChromaUnavailableError.exit_code, cli.stderr
    assert f"127.0.0.1:{dead}" in cli.stderr and "Traceback" not in cli.stderr

    # A server that goes away while the chat serves: the question gets the same clear error.
    server = start_chroma(tmp_path / "data")
    try:
        settings = server_settings(monkeypatch, server.port)
        rebuild([SEEDS], settings, embedder=embedder)
        desk = Newsdesk(settings, embedder)
        assert desk.ask(QUESTION).quotes
    finally:
        server.stop()
    with pytest.raises(ChromaUnavailableError, match=f"127.0.0.1:{server.port}"):
        desk.ask(QUESTION)
    with pytest.raises(ChromaUnavailableError, match=f"127.0.0.1:{server.port}"):
        Newsdesk(settings, embedder).ask(QUESTION)


def test_token_is_sent_as_a_bearer_header() -> None:
    """The token from NEWSDESK_CHROMA_TOKEN reaches the server (seen on the wire by a stand-in server)."""
    seen: list[str | None] = []

    class Refuse(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            body = b'{"error":"Unauthorized","message":"bad token"}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        settings = Settings.from_env({"NEWSDESK_CHROMA_HOST": "127.0.0.1", "NEWSDESK_CHROMA_PORT": str(httpd.server_address[1]),
                                      "NEWSDESK_CHROMA_TOKEN": "s3cret-token"})
        server = ChromaServer.from_settings(settings)
        assert server is not None and "s3cret" not in repr(server)
        with pytest.raises(ChromaUnavailableError, match="refused the credentials"):
            server.client()
    finally:
        httpd.shutdown()
    assert seen and seen[0] == "Bearer s3cret-token"


@pytest.mark.slow
def test_a_token_checking_server_is_used_with_the_token_and_refused_without(
    chroma: Server, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    proxy = ChromaProxy(chroma.port, {"Authorization": "Bearer s3cret-token"})
    try:
        env = {"NEWSDESK_CHROMA_HOST": "127.0.0.1", "NEWSDESK_CHROMA_PORT": str(proxy.port), "NEWSDESK_INDEX_DIR": str(tmp_path / "index")}
        settings = Settings.from_env({**env, "NEWSDESK_CHROMA_TOKEN": "s3cret-token"})
        rebuild([SEEDS], settings, embedder=embedder)
        desk = Newsdesk(settings, embedder)
        answer = desk.ask(QUESTION)
        assert any("more than 250,000 civilians are trapped" in q.text for q in answer.quotes)
        assert_quotes_verify(answer, desk.index)
        sent = {next((v for k, v in h.items() if k.lower() == "authorization"), None) for h in proxy.seen}
        assert len(proxy.seen) > 5 and sent == {"Bearer s3cret-token"}  # every call carried it

        for wrong in ({**env, "NEWSDESK_CHROMA_TOKEN": "guess"}, env):
            refused = Settings.from_env(wrong)
            with pytest.raises(ChromaUnavailableError, match="refused the credentials"):
                Newsdesk(refused, embedder).ask(QUESTION)
            with pytest.raises(ChromaUnavailableError, match="refused the credentials"):
                rebuild([SEEDS], refused, embedder=embedder)
        assert IndexPaths(settings.index_dir).live_generation() is not None  # the refused rebuilds changed nothing
        assert desk.ask(QUESTION).quotes
    finally:
        proxy.stop()


def test_collection_names_are_valid_for_chroma() -> None:
    import re

    name = collection_name("20261128T165751.914697980-539")
    assert name == "newsdesk-20261128T165751-914697980-539"
    assert 3 <= len(name) <= 512 and re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]", name)
    assert ChromaServer.from_settings(Settings.from_env({})) is None
