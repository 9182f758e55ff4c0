"""What a multi-node or hosted Chroma needs, against a real `chroma run` on localhost: retries that ride
out a server stopped and restarted (during a rebuild and during a question), a clear error when the
retries are spent, a tenant and database of its own, extra headers on the wire (and never shown), a
request timeout, and only transient errors retried."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import SEEDS, ChromaProxy, assert_quotes_verify, free_port

import assistant.indexing
from assistant.chat import Newsdesk
from assistant.config import Settings, redact
from assistant.embedding import SentenceTransformerEmbedder
from assistant.errors import ChromaSetupError, ChromaUnavailableError, ConfigError, IndexDamagedError
from assistant.indexing import rebuild
from assistant.store import ChromaServer, IndexPaths, Manifest
from assistant.terminal import status_json

CHROMA = Path(sys.executable).parent / "chroma"
QUESTION = "How many civilians are trapped in eastern Aleppo?"
ALEPPO = "more than 250,000 civilians are trapped"
RETRY_LOG = "assistant.store.server"

# Eight short stories on unrelated subjects (no two alike, so none is grouped as a syndicated copy).
STORIES = [
    ("harbour", "Port Elwin harbour backlog", "The harbour authority of Port Elwin said 4,812 containers were held at the docks on Monday. "
     "Officials blamed a strike by crane operators."),
    ("orchard", "Frost hits Vale orchards", "Growers in the Vale reported that a late frost destroyed most of the apricot blossom. "
     "The cooperative expects a harvest well below last year's."),
    ("library", "Library reopens after flood", "The central library of Marrow reopened its reading rooms after the winter flood. "
     "Volunteers dried and catalogued nine hundred damaged books."),
    ("tramway", "Tram line extension approved", "The council of Desmond approved a tram extension to the northern suburbs. "
     "Construction begins in spring and should take three years."),
    ("chess", "Teenager wins national chess title", "A fifteen-year-old from Lowfield won the national chess championship on Sunday. "
     "She drew her final game against the defending champion."),
    ("bakery", "Bread prices rise again", "Bakers in Thornbury raised the price of a standard loaf for the second time this year. "
     "Millers cite the cost of wheat and electricity."),
    ("comet", "Amateur astronomer spots comet", "An amateur astronomer in Kestrel Bay photographed a faint comet before dawn. "
     "The observatory confirmed the sighting two nights later."),
    ("bridge", "Old bridge closed for repairs", "Engineers closed the old stone bridge over the Arden river after finding cracks. "
     "Traffic will be diverted through the ring road for six weeks."),
]


# ---- a restartable `chroma run`, a reverse proxy in front of it ----------------------------------


class ChromaProcess:
    """`chroma run` on one localhost port and data directory, in a process group of its own: stopped
    by killing the group (as a crashed node), and started again on the same port and path."""

    def __init__(self, data: Path) -> None:
        self.data, self.port = data, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.data.parent / "chroma.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(CHROMA), "run", "--path", str(self.data), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.data.parent / "chroma.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("chroma run never answered its heartbeat")

    def kill(self) -> None:
        """Stop it at once, as a crash would: SIGKILL to its process group."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def restart_soon(self) -> threading.Thread:
        """Start it again on the same port and path, in a thread (it takes a few seconds here)."""
        thread = threading.Thread(target=self.start, daemon=True)
        thread.start()
        return thread

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaProcess]:
    chroma = ChromaProcess(tmp_path_factory.mktemp("chroma-cluster") / "data")
    chroma.start()
    yield chroma
    chroma.stop()


@pytest.fixture
def chroma(server: ChromaProcess) -> ChromaProcess:
    """The module's server, running (a test before may have stopped it)."""
    if not server.running():
        server.start()
    return server


def settings_for(tmp_path: Path, port: int, **env: str) -> Settings:
    return Settings.from_env({"NEWSDESK_INDEX_DIR": str(tmp_path / "index"), "NEWSDESK_CHROMA_HOST": "127.0.0.1",
                              "NEWSDESK_CHROMA_PORT": str(port), "NEWSDESK_EMBED_BACKEND": "torch", **env})


def write_stories(path: Path) -> Path:
    path.write_text("\n".join(json.dumps({"id": i, "title": t, "publisher": "Coast Times", "body": b}) for i, t, b in STORIES),
                    encoding="utf-8")
    return path


def live_manifest(settings: Settings) -> Manifest:
    live = IndexPaths(settings.index_dir).live_generation()
    assert live is not None
    return Manifest.load(live / "manifest.json")


def retries_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == RETRY_LOG and "retry" in r.getMessage()]


# ---- (a) a server stopped and restarted during a rebuild ----------------------------------------


@pytest.mark.slow
def test_a_rebuild_rides_out_a_server_restart(
    chroma: ChromaProcess, embedder: SentenceTransformerEmbedder, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(assistant.indexing, "EMBED_BATCH_CHUNKS", 2)  # many Chroma batches from a small archive
    settings = settings_for(tmp_path, chroma.port, NEWSDESK_CHROMA_RETRIES="8")
    restarted: list[threading.Thread] = []

    def crash_after_the_first_batch(what: str, done: int, total: int) -> None:
        if what == "chunks" and not restarted:
            chroma.kill()  # the first batch is written; the next ones meet a dead server
            restarted.append(chroma.restart_soon())

    caplog.set_level(logging.WARNING, logger=RETRY_LOG)
    report = rebuild([write_stories(tmp_path / "feed.jsonl")], settings, embedder=embedder, progress=crash_after_the_first_batch)
    restarted[0].join()
    assert retries_logged(caplog), "the rebuild never met the stopped server"
    assert report.articles == len(STORIES) and report.chunks >= len(STORIES)

    m = live_manifest(settings)
    ids = ChromaServer("127.0.0.1", chroma.port).client().get_collection(m.collection).get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == m.chunks == report.chunks  # whole, and nothing twice
    desk = Newsdesk(settings, embedder)
    answer = desk.ask("How many containers were held at the docks of Port Elwin?")
    assert any("4,812 containers" in q.text for q in answer.quotes)
    assert_quotes_verify(answer, desk.index)


# ---- (b) a server stopped and restarted while a question is asked ------------------------------


@pytest.mark.slow
def test_a_question_rides_out_a_server_restart(
    chroma: ChromaProcess, embedder: SentenceTransformerEmbedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(tmp_path, chroma.port, NEWSDESK_CHROMA_RETRIES="8")
    rebuild([SEEDS], settings, embedder=embedder)
    desk = Newsdesk(settings, embedder)
    assert any(ALEPPO in q.text for q in desk.ask(QUESTION).quotes)  # the index is open

    caplog.set_level(logging.WARNING, logger=RETRY_LOG)
    chroma.kill()
    answers: list[object] = []
    asking = threading.Thread(target=lambda: answers.append(_try(desk.ask, QUESTION)))
    asking.start()
    time.sleep(0.5)  # the question is waiting on the stopped server
    chroma.start()
    asking.join(timeout=60)
    assert retries_logged(caplog), "the question never met the stopped server"
    answer = answers[0]
    assert not isinstance(answer, BaseException), answer
    assert any(ALEPPO in q.text for q in answer.quotes)  # type: ignore[attr-defined]


def _try(call: object, *args: object) -> object:
    try:
        return call(*args)  # type: ignore[operator]
    except BaseException as exc:  # handed to the test thread
        return exc


# ---- (c) the retries spent: a clear error, the live index unchanged -----------------------------


@pytest.mark.slow
def test_retries_spent_is_a_clear_error_and_live_stays(
    chroma: ChromaProcess, embedder: SentenceTransformerEmbedder, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    settings = settings_for(tmp_path, chroma.port, NEWSDESK_CHROMA_RETRIES="2")
    rebuild([SEEDS], settings, embedder=embedder)
    live = IndexPaths(settings.index_dir).live_generation()
    desk = Newsdesk(settings, embedder)
    assert desk.ask(QUESTION).quotes

    monkeypatch.setattr(assistant.indexing, "EMBED_BATCH_CHUNKS", 2)
    caplog.set_level(logging.WARNING, logger=RETRY_LOG)
    stopped: list[bool] = []

    def crash(what: str, done: int, total: int) -> None:
        if what == "chunks" and not stopped:
            chroma.kill()  # and it stays down
            stopped.append(True)

    started = time.monotonic()
    with pytest.raises(ChromaUnavailableError, match=rf"127\.0\.0\.1:{chroma.port} \(.*3 tries over") as raised:
        rebuild([write_stories(tmp_path / "feed.jsonl")], settings, embedder=embedder, progress=crash)
    assert stopped and time.monotonic() - started >= 1.5  # it waited 0.5 + 1 s between its three tries
    assert "NEWSDESK_CHROMA_RETRIES" in str(raised.value)
    assert IndexPaths(settings.index_dir).live_generation() == live  # LIVE unchanged
    assert len(retries_logged(caplog)) >= 2

    with pytest.raises(ChromaUnavailableError, match=f"127.0.0.1:{chroma.port}") as asked:
        desk.ask(QUESTION)
    assert asked.value.chat_message().startswith("The vector store (Chroma server) cannot be reached")

    chroma.start()  # back: the same chat answers again, from the same generation
    assert any(ALEPPO in q.text for q in desk.ask(QUESTION).quotes)
    assert desk.index.dir == live


# ---- (d) a tenant and a database of its own ------------------------------------------------------


@pytest.mark.slow
def test_a_tenant_and_database_hold_the_index(chroma: ChromaProcess, embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    tenant, database = f"newsroom-{chroma.port}", "archive-2016"
    admin = chromadb.AdminClient(ChromaSettings(chroma_api_impl="chromadb.api.fastapi.FastAPI", chroma_server_host="127.0.0.1",
                                                chroma_server_http_port=chroma.port, anonymized_telemetry=False))
    admin.create_tenant(tenant)
    admin.create_database(database, tenant=tenant)

    settings = settings_for(tmp_path, chroma.port, NEWSDESK_CHROMA_TENANT=tenant, NEWSDESK_CHROMA_DATABASE=database)
    rebuild([SEEDS], settings, embedder=embedder)
    m = live_manifest(settings)
    assert m.chroma_server == f"127.0.0.1:{chroma.port}/{tenant}/{database}"
    assert status_json(settings)["store"] == f"server 127.0.0.1:{chroma.port}/{tenant}/{database}/{m.collection}"
    ours = chromadb.HttpClient(host="127.0.0.1", port=chroma.port, tenant=tenant, database=database,
                               settings=ChromaSettings(anonymized_telemetry=False))
    assert ours.get_collection(m.collection).count() == m.chunks  # in that database …
    default = ChromaServer("127.0.0.1", chroma.port).client()
    assert m.collection not in {c.name for c in default.list_collections()}  # … and not in the default one
    desk = Newsdesk(settings, embedder)
    answer = desk.ask(QUESTION)
    assert any(ALEPPO in q.text for q in answer.quotes)
    assert_quotes_verify(answer, desk.index)

    # Without the tenant and database settings the collection is not found, and the message says where it was built.
    with pytest.raises(IndexDamagedError, match=f"built on 127.0.0.1:{chroma.port}/{tenant}/{database}"):
        Newsdesk(settings_for(tmp_path, chroma.port), embedder).ask(QUESTION)

    # A tenant or database the server lacks: a clear error naming the setting, at once (nothing to retry).
    for env, setting in (({"NEWSDESK_CHROMA_TENANT": "no-such-tenant"}, "NEWSDESK_CHROMA_TENANT"),
                         ({"NEWSDESK_CHROMA_TENANT": tenant, "NEWSDESK_CHROMA_DATABASE": "no-such-db"}, "NEWSDESK_CHROMA_DATABASE")):
        wrong = settings_for(tmp_path, chroma.port, NEWSDESK_CHROMA_RETRIES="5", **env)
        started = time.monotonic()
        with pytest.raises(ChromaSetupError, match=setting) as raised:
            rebuild([SEEDS], wrong, embedder=embedder)
        assert time.monotonic() - started < 5 and raised.value.exit_code == ChromaUnavailableError.exit_code
        assert "does not create" in str(raised.value) and setting in raised.value.chat_message()
        with pytest.raises(ChromaSetupError, match=setting):
            Newsdesk(wrong, embedder).ask(QUESTION)
    assert live_manifest(settings).collection == m.collection  # the refused rebuilds changed nothing


# ---- (e) headers on the wire, never shown -------------------------------------------------------

KEY = "hdr-S3cret-5521"
TEAM = "newsroom-team-7"
HEADERS = f"X-Chroma-Token: {KEY}; X-Team: {TEAM}"


@pytest.mark.slow
def test_headers_reach_the_server_and_are_never_shown(
    chroma: ChromaProcess, embedder: SentenceTransformerEmbedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = ChromaProxy(chroma.port, {"X-Chroma-Token": KEY, "X-Team": TEAM})
    try:
        settings = settings_for(tmp_path, proxy.port, NEWSDESK_CHROMA_HEADERS=HEADERS)
        server = ChromaServer.from_settings(settings)
        assert server is not None and KEY not in repr(server) and TEAM not in repr(server)
        caplog.set_level(logging.DEBUG)
        rebuild([SEEDS], settings, embedder=embedder)
        desk = Newsdesk(settings, embedder)
        assert any(ALEPPO in q.text for q in desk.ask(QUESTION).quotes)
        assert len(proxy.seen) > 5
        assert all(h.get("X-Chroma-Token") == KEY and h.get("X-Team") == TEAM for h in proxy.seen)  # every request

        # never shown: not in the manifest, store.json, status, the log, nor the settings as listed
        live = IndexPaths(settings.index_dir).live_generation()
        assert live is not None
        shown = [(live / "manifest.json").read_text(), (live / "store.json").read_text(), json.dumps(status_json(settings)),
                 caplog.text, json.dumps(settings.shown_all())]
        assert not any(KEY in text or TEAM in text for text in shown)

        # a wrong key: refused at once (never retried), and the message holds no header value
        proxy.seen.clear()
        wrong = settings_for(tmp_path, proxy.port, NEWSDESK_CHROMA_HEADERS=f"X-Chroma-Token: wrong-{KEY}; X-Team: {TEAM}",
                             NEWSDESK_CHROMA_RETRIES="5")
        with pytest.raises(ChromaUnavailableError, match="refused the credentials") as raised:
            Newsdesk(wrong, embedder).ask(QUESTION)
        assert len(proxy.seen) == 1 and KEY not in str(raised.value) and TEAM not in str(raised.value)
    finally:
        proxy.stop()


def test_malformed_headers_are_a_config_error_that_does_not_echo_them(tmp_path: Path) -> None:
    for bad in (f"X-Chroma-Token {KEY}", f"X Token: {KEY}", f"X-Chroma-Token: {KEY}; X-Chroma-Token: {KEY}2",
                "X-Chroma-Token: ", f"X-Chroma-Token: {KEY}\u00e9"):
        with pytest.raises(ConfigError, match="NEWSDESK_CHROMA_HEADERS is malformed") as raised:
            ChromaServer.from_settings(settings_for(tmp_path, 8000, NEWSDESK_CHROMA_HEADERS=bad))
        assert KEY not in str(raised.value) and "X Token" not in str(raised.value)
    with pytest.raises(ConfigError, match="NEWSDESK_CHROMA_TOKEN"):
        ChromaServer.from_settings(settings_for(tmp_path, 8000, NEWSDESK_CHROMA_HEADERS=f"Authorization: Bearer {KEY}",
                                                NEWSDESK_CHROMA_TOKEN="t0ken-1234"))
    server = ChromaServer.from_settings(settings_for(tmp_path, 8000, NEWSDESK_CHROMA_HEADERS=f" {HEADERS} ;"))
    assert server is not None and server.headers == (("X-Chroma-Token", KEY), ("X-Team", TEAM))
    # the one redaction removes each header value, not only the setting's whole text
    settings = settings_for(tmp_path, 8000, NEWSDESK_CHROMA_HEADERS=HEADERS)
    assert redact(f"the gateway refused {KEY} for team {TEAM}", settings) == "the gateway refused *** for team ***"


# ---- only transient errors are retried: 503 and timeouts are, refusals are not -------------------


@pytest.mark.slow
def test_gateway_errors_and_timeouts_are_retried(
    chroma: ChromaProcess, embedder: SentenceTransformerEmbedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = ChromaProxy(chroma.port, {})
    try:
        settings = settings_for(tmp_path, proxy.port, NEWSDESK_CHROMA_TIMEOUT="2", NEWSDESK_CHROMA_RETRIES="3")
        proxy.faults += [("heartbeat", "status", 502), ("upsert", "status", 503), ("upsert", "stall", 4.0)]
        caplog.set_level(logging.WARNING, logger=RETRY_LOG)
        report = rebuild([SEEDS], settings, embedder=embedder)
        assert not proxy.faults  # each was met
        logged = " ".join(retries_logged(caplog))
        assert "HTTP 502" in logged and "HTTP 503" in logged and "no answer within 2 s" in logged
        m = live_manifest(settings)
        ids = ChromaServer("127.0.0.1", chroma.port).client().get_collection(m.collection).get(include=[])["ids"]
        assert len(ids) == len(set(ids)) == report.chunks  # the stalled upsert landed after its retry: still once each

        proxy.faults += [("query", "status", 504)]
        desk = Newsdesk(settings, embedder)
        assert any(ALEPPO in q.text for q in desk.ask(QUESTION).quotes) and not proxy.faults
    finally:
        proxy.stop()
