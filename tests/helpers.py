"""Helpers the tests share: where the repository's archives are, and the product's promise as an assertion."""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.records import Answer, Article
from assistant.sources import Problem
from assistant.store import Index

if TYPE_CHECKING:
    from assistant.chat import Newsdesk
    from assistant.embedding import Embedder
    from assistant.sources import Limits

REPO = Path(__file__).resolve().parent.parent
SEED_PAGE = REPO / "seeds" / "000_1188ee5dcc83ef1c.txt"


def _seed_page_folder() -> Path:
    """A folder holding the seed page and its question set alone, as ``seeds/`` was before it also
    held the demo archive: most tests want an archive of one known article."""
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-seed-"))
    atexit.register(shutil.rmtree, folder, True)
    for name in (SEED_PAGE.name, "questions.jsonl"):
        shutil.copy2(REPO / "seeds" / name, folder / name)
    return folder


SEEDS = _seed_page_folder()  # the seed page alone; the whole default archive is REPO / "seeds"
DATA = REPO / "tests" / "data"  # the licensed archives, carried by the repository (see tests/data/README.md)
HORNE = DATA / "horne2017" / "articles.jsonl"
FNC = DATA / "fakenewscorpus-sample" / "news_sample.csv"

def read_all(*paths: Path, limits: Limits | None = None) -> tuple[list[Article], list[Problem]]:
    """Every article and every problem of ``paths``, as an index build would read them."""
    from assistant.sources import Limits, iter_files, read_file

    articles: list[Article] = []
    problems: list[Problem] = []
    for entry in iter_files(list(paths)):
        if isinstance(entry, Problem):
            problems.append(entry)
            continue
        for r in read_file(entry, limits or Limits()):
            (articles if isinstance(r, Article) else problems).append(r)  # type: ignore[arg-type]
    return articles, problems


def assert_quotes_verify(answer: Answer, index: Index) -> None:
    """The product's promise: every shown quote is the exact article text at its offsets."""
    for q in answer.quotes:
        article = index.articles[q.article_id]
        assert article.body[q.start : q.end] == q.text, f"quote does not verify: {q}"
        assert q.verification in ("verified", "repaired")
        assert any(s.number == q.source and s.article_id == q.article_id for s in answer.sources)


def desk_of(root: Path, records: Sequence[dict[str, object]], embedder: Embedder) -> Newsdesk:
    """A Newsdesk over ``records`` written as one JSONL feed under ``root`` and indexed for real."""
    from assistant.chat import Newsdesk
    from assistant.config import Settings
    from assistant.indexing import rebuild

    (root / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    settings = Settings.from_env(index_dir=root / "index")
    rebuild([root / "feed.jsonl"], settings, embedder=embedder)
    return Newsdesk(settings, embedder)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# `ray start` for a worker node on 127.0.0.1 (tests/test_ray_build.py, benchmarks/ray_build.py): Ray 2.60
# refuses a worker node while RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, and with 1 it replaces 127.0.0.1 by the
# machine's network address; this reads the setting as 1 when ray is imported, keeps the address as given
# (Ray's private services.resolve_ip_for_localhost) and passes 0 to the node's processes.
RAY_LOOPBACK_NODE = (
    "import os, sys\n"
    "os.environ['RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER'] = '1'\n"
    "from ray._private import services\n"
    "os.environ['RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER'] = '0'\n"
    "services.resolve_ip_for_localhost = lambda host: host\n"
    "from ray.scripts.scripts import main\n"
    "sys.exit(main())\n"
)


class ChromaProxy:
    """A reverse proxy in front of a real `chroma run`, as a hosted Chroma's gateway: it forwards only
    requests carrying the ``required`` headers, records the headers of every request, and can answer
    the next requests whose path holds a given word with an HTTP status, or stall them."""

    def __init__(self, upstream: int, required: dict[str, str]) -> None:
        self.seen: list[dict[str, str]] = []
        self.faults: list[tuple[str, str, float]] = []  # (path word, "status" or "stall", status or seconds)
        self.lock = threading.Lock()
        proxy = self

        class Forward(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                headers = dict(self.headers.items())
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.lock:
                    proxy.seen.append(headers)
                    fault = next((f for f in proxy.faults if f[0] in self.path), None)
                    if fault is not None:
                        proxy.faults.remove(fault)
                if any(self.headers.get(k) != v for k, v in required.items()):
                    self._reply(401, [("Content-Type", "application/json")], b'{"error":"AuthorizationError","message":"Unauthorized"}')
                    return
                if fault is not None and fault[1] == "status":
                    self._reply(int(fault[2]), [("Content-Type", "text/html")], b"<html>gateway busy</html>")
                    return
                if fault is not None:
                    time.sleep(fault[2])  # the client gives up meanwhile; the request is still applied after
                conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=60)
                passed = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=passed)
                got = conn.getresponse()
                data = got.read()
                conn.close()
                kept = [(k, v) for k, v in got.getheaders() if k.lower() not in ("transfer-encoding", "connection", "content-length")]
                with contextlib.suppress(OSError):  # the client timed out and went away
                    self._reply(got.status, kept, data)

            def _reply(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.port = int(self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
