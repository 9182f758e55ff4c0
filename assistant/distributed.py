"""The work of a build that can run on other machines — reading a file, chunking and encoding
articles — and running it on a Ray cluster (``NEWSDESK_RAY_ADDRESS`` or ``--ray``).

``plan_chunks`` and ``encode_chunks`` are the one implementation of chunking and encoding: a
local build calls them in its own process, a Ray build calls them in encoder actors. On a
cluster, every actor loads the configured encoder (same backend, same model) once and then
reads whole files (read + clean, ``sources.read_file``) and encodes batches of articles
(chunk + encode) for the process that runs the build. That process keeps everything that must
have one owner: de-duplication, article-id renames, story grouping, the reuse of the previous
generation's vectors (an update sends only new and changed articles), the writer, the lock and
the switch of ``LIVE``. Results come back in the order the work was given, so a Ray build
writes the same generation as a local one (same articles, same chunk ids, same order).

Faults: a killed actor is restarted (``max_restarts``) and its unfinished calls run again
(``max_task_retries``); an actor needs a free CPU somewhere in the cluster to restart. When
the cluster returns nothing for ``STALL_SECONDS`` (its workers gone), or a call fails for
good, the build raises and is abandoned, and the live index is unchanged. Workers read the
archive by the same absolute paths as this process (a shared filesystem).

Ray traffic stays where the address points: ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (otherwise
Ray replaces 127.0.0.1 by the machine's network address) and ``RAY_USAGE_STATS_ENABLED=0`` are
set in this process before connecting, unless already set, and in the actors' environment.
``ray`` is imported only here, only when a build is given a Ray address (the ``ray`` extra).
"""

from __future__ import annotations

import os
import socket
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .chunking import Span, chunk_article, embed_text, fit_spans, sentence_spans
from .config import Settings
from .embedding import Embedder, make_embedder
from .errors import ConfigError, NewsdeskError
from .records import Article, Chunk
from .sources import Limits, Problem, iter_files, read_file

RAY_EXTRA = "pip install 'newsdesk[ray]'"
ENCODE_BATCH_CHARS = 64_000  # article text per encode call (about 70 chunks of ~900 characters)
CALLS_PER_ACTOR = 2  # calls queued on each actor: one running, one waiting, so it never idles
QUEUED_AT_MOST = 1024  # kept items waiting behind an unsent batch before it is sent anyway
PROBE_SECONDS = 5.0  # a HOST:PORT address must accept a connection within this long
STALL_SECONDS = 300.0  # no result from the cluster for this long: the build fails
MAX_RESTARTS = 4  # restarts of one encoder actor (its process or node killed)
MAX_TASK_RETRIES = 4  # re-runs of one call whose actor died
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
WORKER_ENV = {**RAY_ENV, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


# ---- chunking and encoding: the same functions for a local and a Ray build -----------------


def plan_chunks(article: Article, embedder: Embedder, settings: Settings) -> list[tuple[Chunk, list[Span]]]:
    """The article's chunks, each with the sentence spans inside it (the chunk itself when none fits)."""
    count = embedder.count_tokens
    spans = fit_spans(article.body, sentence_spans(article.body), count, settings.chunk_tokens)
    chunks = chunk_article(article, count, settings.chunk_tokens, settings.chunk_overlap_sentences, spans)
    return [(c, [sp for sp in spans if sp.start >= c.start and sp.end <= c.end] or [Span(c.start, c.end)]) for c in chunks]


def encode_chunks(
    embedder: Embedder, items: Sequence[tuple[Article, Chunk, Sequence[Span]]]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each chunk's vector (headline + text, as the encoder reads it) and its sentences' vectors."""
    texts, local_spans = [], []
    for article, chunk, spans in items:
        text = embed_text(article, chunk)
        shift = len(text) - len(chunk.text)  # the headline comes first
        texts.append(text)
        local_spans.append([(sp.start - chunk.start + shift, sp.end - chunk.start + shift) for sp in spans])
    return embedder.embed_with_spans(texts, local_spans)


@dataclass(frozen=True, eq=False)
class Encoded:
    """One article chunked and encoded by a worker: entry ``i`` of every column is chunk ``i``'s."""

    chunks: list[Chunk]
    spans: list[list[Span]]
    vectors: np.ndarray
    sentence_vectors: list[np.ndarray]


class Worker:
    """One encoder actor: loads the configured encoder once, then reads files and encodes articles."""

    def __init__(self, settings: Settings, threads: int) -> None:
        self.settings = settings
        self.limits = Limits(settings.max_file_mb * 2**20, settings.max_record_chars)
        self.embedder = make_embedder(settings)
        self.embedder.use_threads(threads)

    def ready(self) -> int:
        """Load the encoder now (its first use would), so that a build knows every actor can work; the pid."""
        self.embedder.embed_batch(["ready"])
        return os.getpid()

    def read(self, path: str) -> list[Article | Problem]:
        """Every record of one file, as a local build reads it (problems carry their file:line)."""
        if not os.path.exists(path):
            import socket

            raise NewsdeskError(
                f"A Ray worker on {socket.gethostname()} cannot see {path}: the workers read the archive "
                "by the same path as the machine that runs the build (put it on a shared filesystem)."
            )
        return list(read_file(Path(path), self.limits))

    def encode(self, articles: list[Article]) -> tuple[list[Encoded], float]:
        """Chunk and encode ``articles``; with the seconds it took."""
        started = time.perf_counter()
        plans = [plan_chunks(a, self.embedder, self.settings) for a in articles]
        vectors, sentence_vectors = encode_chunks(
            self.embedder, [(a, c, spans) for a, plan in zip(articles, plans, strict=True) for c, spans in plan]
        )
        out, at = [], 0
        for plan in plans:
            n = len(plan)
            out.append(Encoded([c for c, _ in plan], [s for _, s in plan], vectors[at : at + n], sentence_vectors[at : at + n]))
            at += n
        return out, time.perf_counter() - started


# ---- the driver's side --------------------------------------------------------------------


def import_ray() -> Any:
    """The ``ray`` module, or a ``ConfigError`` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            f"Building on a Ray cluster needs the ray package, which is not installed: {RAY_EXTRA} "
            "(or unset NEWSDESK_RAY_ADDRESS to build in this process)."
        ) from None
    return ray


@dataclass(eq=False)
class _Call:
    """One actor call and, once fetched, its result."""

    method: str
    arg: Any
    actor: int
    ref: Any
    done: bool = False
    result: Any = None


@dataclass(eq=False)
class _Slot:
    """A place in the output order: an item kept as it is, or an article to encode (``call`` once sent)."""

    item: Any
    encode: bool
    call: _Call | None = None
    index: int = 0


@dataclass(eq=False)
class RayBuild:
    """Connects to the cluster, starts the encoder actors, gives them work and hands the results back
    in order. ``close`` stops the actors (and disconnects, when it connected)."""

    settings: Settings
    encode_seconds: float = 0.0  # summed over the actors
    actors: list[Any] = field(default_factory=list)
    _ray: Any = None
    _connected: bool = False
    _load: list[int] = field(default_factory=list)  # calls not yet fetched, per actor
    _sent: deque[_Call] = field(default_factory=deque)  # calls not yet fetched, oldest first
    _slots: deque[_Slot] = field(default_factory=deque)
    _unsent: list[_Slot] = field(default_factory=list)
    _unsent_chars: int = 0

    def __post_init__(self) -> None:
        for name, value in RAY_ENV.items():  # before ray is imported: it reads them once, at import
            os.environ.setdefault(name, value)
        self._ray = import_ray()
        if _loopback(self.settings.ray_address) and self._ray._private.ray_constants.ENABLE_RAY_CLUSTER:
            raise ConfigError(
                "ray was imported in this process before RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 was set, so it would "
                f"reach {self.address} through this machine's network address: set it before ray is imported."
            )
        try:
            self._reachable()
            self._connect()
            self._start_actors()
        except BaseException:
            self.close()
            raise

    @property
    def address(self) -> str:
        """The cluster's address as it may be shown (credentials masked)."""
        return str(self.settings.shown("ray_address"))

    @property
    def built_with(self) -> dict[str, Any]:
        """What the manifest records of this build."""
        return {"ray": self.address, "encoders": len(self.actors)}

    def _reachable(self) -> None:
        """Fail within seconds when nothing listens at a HOST:PORT address (``ray.init`` itself retries for
        over a minute); other forms ("auto", no port) are left to Ray."""
        target = _host_port(self.settings.ray_address)
        if target is None or self._ray.is_initialized():
            return
        try:
            socket.create_connection(target, timeout=PROBE_SECONDS).close()
        except OSError as exc:
            raise NewsdeskError(
                f"Cannot reach the Ray cluster at {self.address}: nothing answers there ({exc.strerror or type(exc).__name__}). "
                "Start it (`ray start --head`) or unset NEWSDESK_RAY_ADDRESS; the index was not changed."
            ) from None

    def _connect(self) -> None:
        ray = self._ray
        if ray.is_initialized():  # the caller connected already; it also disconnects
            return
        import logging

        try:
            ray.init(address=self.settings.ray_address, log_to_driver=False, logging_level=logging.ERROR)
        except Exception as exc:  # noqa: BLE001 - ray raises ConnectionError, RuntimeError, ValueError …
            raise NewsdeskError(
                f"Cannot reach the Ray cluster at {self.address} ({type(exc).__name__}: {_first_line(exc)}). "
                "Start it (`ray start --head`) or unset NEWSDESK_RAY_ADDRESS; the index was not changed."
            ) from None
        self._connected = True

    def _start_actors(self) -> None:
        ray = self._ray
        count = self.settings.ray_encoders or int(ray.cluster_resources().get("CPU", 0))
        if count <= 0:
            raise NewsdeskError(f"The Ray cluster at {self.address} offers no CPU to run encoders on; the index was not changed.")
        actor = ray.remote(Worker).options(
            num_cpus=1, max_restarts=MAX_RESTARTS, max_task_retries=MAX_TASK_RETRIES,
            scheduling_strategy="SPREAD", runtime_env={"env_vars": WORKER_ENV},
        )
        self.actors = [actor.remote(_for_workers(self.settings), 1) for _ in range(count)]
        self._load = [0] * count
        for ready in [a.ready.remote() for a in self.actors]:  # every actor placed, its encoder loaded, first
            self._get(ready)

    def close(self) -> None:
        """Stop the actors and, if this build connected, disconnect (never raises)."""
        ray, actors, self.actors = self._ray, self.actors, []
        for a in actors:
            with suppress(Exception):  # the actor, or the whole cluster, may be gone already
                ray.kill(a, no_restart=True)
        if self._connected:
            self._connected = False
            with suppress(Exception):
                ray.shutdown()

    # ---- reading ----------------------------------------------------------------------------

    def read(self, files: Sequence[Path]) -> Iterator[list[Article | Problem]]:
        """Each file's records, read by the actors, in the order of ``files`` (a few files ahead meanwhile)."""
        todo, ahead = deque(files), deque[_Call]()
        while todo or ahead:
            while todo and len(ahead) < len(self.actors) * CALLS_PER_ACTOR:
                ahead.append(self._call("read", str(todo.popleft())))
            call = ahead.popleft()
            self._fetch(call)
            yield call.result

    def reader(self, sources: Sequence[Path]) -> Callable[[Path], list[Article | Problem]]:
        """``read`` for a caller that asks for one file at a time, in ``iter_files(sources)`` order."""
        files = [e for e in iter_files(sources) if isinstance(e, Path)]
        results, expected = self.read(files), iter(files)

        def read_one(path: Path) -> list[Article | Problem]:
            if next(expected, None) != path:
                raise RuntimeError(f"files asked out of order: {path}")
            return next(results)

        return read_one

    # ---- encoding, in order -----------------------------------------------------------------

    def encode(self, article: Article) -> None:
        """Queue ``article`` to be chunked and encoded; it is sent with others once enough text waits."""
        slot = _Slot(article, encode=True)
        self._slots.append(slot)
        self._unsent.append(slot)
        self._unsent_chars += len(article.body)
        if self._unsent_chars >= ENCODE_BATCH_CHARS:
            self._send()

    def keep(self, item: Any) -> None:
        """Queue an item that needs no work, to come back in its place among the encoded articles."""
        self._slots.append(_Slot(item, encode=False))

    def results(self, wait: bool = False) -> Iterator[tuple[Any, Encoded | None]]:
        """Finished items from the front of the queue, in the order queued: (item, None) for a kept item,
        (article, Encoded) for an encoded one. With ``wait``, every item, waiting for the cluster."""
        while self._slots:
            slot = self._slots[0]
            if slot.encode and slot.call is None:
                if not (wait or len(self._slots) > QUEUED_AT_MOST):
                    return
                self._send()
            call = slot.call
            if call is not None and not call.done:
                if not (wait or self._ray.wait([call.ref], timeout=0)[0]):
                    return
                self._fetch(call)
            self._slots.popleft()
            yield slot.item, (call.result[0][slot.index] if call is not None else None)

    def _send(self) -> None:
        slots, self._unsent, self._unsent_chars = self._unsent, [], 0
        if slots:
            call = self._call("encode", [s.item for s in slots])
            for i, s in enumerate(slots):
                s.call, s.index = call, i

    # ---- calls ------------------------------------------------------------------------------

    def _call(self, method: str, arg: Any) -> _Call:
        """Send one call to the least busy actor, first waiting for the oldest when all are busy."""
        while min(self._load) >= CALLS_PER_ACTOR:
            self._fetch(self._sent[0])
        actor = self._load.index(min(self._load))
        call = _Call(method, arg, actor, getattr(self.actors[actor], method).remote(arg))
        self._load[actor] += 1
        self._sent.append(call)
        return call

    def _fetch(self, call: _Call) -> None:
        """Wait for ``call``'s result; cluster failures become a ``NewsdeskError`` the build stops on."""
        if call.done:
            return
        call.result = self._get(call.ref)
        call.done = True
        self._load[call.actor] -= 1
        self._sent.remove(call)
        if call.method == "encode":
            self.encode_seconds += call.result[1]

    def _get(self, ref: Any) -> Any:
        exceptions = self._ray.exceptions
        stopped = "the build was stopped and the live index is unchanged"
        try:
            return self._ray.get(ref, timeout=STALL_SECONDS)
        except exceptions.GetTimeoutError:
            raise NewsdeskError(
                f"The Ray cluster at {self.address} returned nothing for {STALL_SECONDS:.0f} s (are its "
                f"workers running, with a CPU free for each encoder?); {stopped}."
            ) from None
        except exceptions.RayTaskError as exc:
            if isinstance(exc.cause, NewsdeskError):  # said by our own code on the worker
                raise exc.cause from None
            raise NewsdeskError(f"A Ray worker failed ({_first_line(exc.cause or exc)}); {stopped}.") from None
        except exceptions.RayError as exc:
            raise NewsdeskError(
                f"The Ray cluster at {self.address} failed ({type(exc).__name__}: {_first_line(exc)}); {stopped}."
            ) from None


def _for_workers(settings: Settings) -> Settings:
    """``settings`` with the paths a worker resolves made absolute (a worker runs in another directory)."""
    model = Path(settings.embed_model).expanduser()
    return replace(
        settings,
        index_dir=settings.index_dir.resolve(),
        embed_model=str(model.resolve()) if model.exists() else settings.embed_model,
        ray_address="",
    )


def _host_and_port(address: str) -> tuple[str, str]:
    """The host and the port (empty when none) of an address such as "HOST:PORT", "ray://user@HOST:PORT" or "auto"."""
    rest = address.strip().rpartition("://")[2].rpartition("@")[2].split("/", 1)[0]
    host, sep, port = rest.rpartition(":")
    return (host.strip("[]"), port) if sep and port.isdigit() and host else (rest.strip("[]"), "")


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of a "HOST:PORT" or "ray://HOST:PORT" address; None for "auto" or an address without a port."""
    host, port = _host_and_port(address)
    return (host, int(port)) if port else None


def _loopback(address: str) -> bool:
    """Does the address name this machine by its loopback interface (127.x, ::1, localhost)?"""
    host = _host_and_port(address)[0]
    return host == "localhost" or host.startswith("127.") or host == "::1"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
