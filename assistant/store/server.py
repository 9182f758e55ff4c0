"""A Chroma server: one `chroma run`, or a multi-node or hosted Chroma (a tenant and database of its
own, extra headers such as an API key, a request timeout), and the one place where its calls are
retried after transient errors (``ChromaServer.retrying``; ``ServerCollection`` wraps a collection's
calls in it for the reader and the writer)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..config import Settings, env_name, redact_url
from ..errors import ChromaSetupError, ChromaUnavailableError, ConfigError

T = TypeVar("T")
log = logging.getLogger(__name__)

CONNECT_SECONDS = 5.0  # at most this long to open a connection (a host that does not answer fails fast)
RETRY_PAUSES = (0.5, 1.0, 2.0, 4.0)  # seconds before retry 1, 2, 3, 4; every later retry waits the last
TRANSIENT_STATUS = frozenset({502, 503, 504})  # a proxy or a node that is restarting: worth another try
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token (RFC 9110)


def parse_headers(text: str, *, token: bool = False) -> tuple[tuple[str, str], ...]:
    """The ``Name: value`` pairs of ``NEWSDESK_CHROMA_HEADERS`` (separated by ``;``). A malformed one
    is a ``ConfigError`` that says which pair and why, never what it holds (the setting is a secret).
    With ``token`` (NEWSDESK_CHROMA_TOKEN is set) an ``Authorization`` header would clash with it."""
    pairs: list[tuple[str, str]] = []
    for number, piece in enumerate((p for p in text.split(";") if p.strip()), start=1):
        name, colon, value = piece.partition(":")
        name, value = name.strip(), value.strip()
        problem = (
            "has no `:` between name and value" if not colon
            else "has no valid header name before the `:`" if not _HEADER_NAME.fullmatch(name)
            else "has an empty value" if not value
            else "has a value with characters other than printable ASCII" if not (value.isascii() and value.isprintable())
            else "repeats a header named before" if name.lower() in {n.lower() for n, _ in pairs}
            else "sets Authorization, which NEWSDESK_CHROMA_TOKEN also sets" if token and name.lower() == "authorization"
            else ""
        )
        if problem:
            raise ConfigError(
                f"{env_name('chroma_headers')} is malformed: its pair {number} {problem} (the value is secret and not shown). "
                "Write `Name: value` pairs separated by `;`, for example `X-Chroma-Token: KEY; X-Team: news`."
            )
        pairs.append((name, value))
    return tuple(pairs)


class ServerBusy(Exception):
    """An HTTP 502, 503 or 504 from the server or a proxy in front of it (raised as the response arrives,
    since chromadb turns an error response without Chroma's JSON into a bare ``Exception`` of its text)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"it answered HTTP {status}")
        self.status = status


class ServerRefused(Exception):
    """An HTTP 401 or 403 before any Chroma call: the server (or its proxy) refused the credentials."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}: unauthorized")
        self.status = status


def is_transient(exc: BaseException) -> bool:
    """Is ``exc`` an error that another try may not meet: a connection refused, reset or lost, a
    timeout, an HTTP 502/503/504, or Chroma saying a service is unavailable? Refused credentials,
    missing collections and bad requests are not."""
    import httpx
    from chromadb.errors import AuthorizationError, ChromaAuthError, ChromaError, NotFoundError

    if isinstance(exc, ServerBusy | httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError):
        return True
    if isinstance(exc, AuthorizationError | ChromaAuthError | NotFoundError):
        return False
    if isinstance(exc, ChromaError):
        return bool(re.search(r"\bunavailable\b", str(exc), re.I))
    # chromadb wraps what goes wrong while a client is made into a ValueError of its text
    return isinstance(exc, ValueError) and bool(re.search(r"connect|timed out|disconnected", str(exc), re.I))


def _refused(exc: BaseException) -> bool:
    from chromadb.errors import AuthorizationError, ChromaAuthError

    return isinstance(exc, ServerRefused | AuthorizationError | ChromaAuthError) or bool(
        re.search(r"unauthori[sz]ed|forbidden|permission", str(exc), re.I)
    )


@dataclass(frozen=True)
class ChromaServer:
    """A Chroma server that holds each generation's vectors as a collection of its own: one ``chroma
    run``, or a multi-node or hosted Chroma (a tenant and database of its own, extra headers such as an
    API key, a request timeout, and retries of transient errors — ``retrying`` is the one place)."""

    host: str
    port: int = 8000
    ssl: bool = False
    token: str = field(default="", repr=False)
    tenant: str = ""  # empty: Chroma's default tenant
    database: str = ""  # empty: Chroma's default database
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # secret values: never shown
    timeout: float = 30.0  # seconds a request may take
    retries: int = 3  # retries after a transient error

    @classmethod
    def from_settings(cls, settings: Settings) -> ChromaServer | None:
        """The configured server, or None for the embedded store."""
        host = settings.chroma_host.strip()
        if not host:
            return None
        if not settings.chroma_timeout > 0:
            raise ConfigError(f"{env_name('chroma_timeout')} must be a number of seconds above 0.")
        if settings.chroma_retries < 0:
            raise ConfigError(f"{env_name('chroma_retries')} must be 0 (no retries) or more.")
        return cls(
            host, settings.chroma_port, settings.chroma_ssl, settings.chroma_token,
            settings.chroma_tenant.strip(), settings.chroma_database.strip(),
            parse_headers(settings.chroma_headers, token=bool(settings.chroma_token)),
            settings.chroma_timeout, settings.chroma_retries,
        )

    @property
    def address(self) -> str:
        """host:port as shown, credentials in the host masked."""
        return redact_url(f"{self.host}:{self.port}", bare=True)

    @property
    def location(self) -> str:
        """Where collections go, as recorded (manifest, store.json): host:port, then /tenant/database
        when either is not Chroma's default."""
        if not (self.tenant or self.database):
            return self.address
        from chromadb.config import DEFAULT_DATABASE, DEFAULT_TENANT

        return f"{self.address}/{self.tenant or DEFAULT_TENANT}/{self.database or DEFAULT_DATABASE}"

    def client(self):  # type: ignore[no-untyped-def]
        """A connected client (retried like every call); failing, a ``ChromaUnavailableError`` naming the server."""
        return self.retrying("connecting", self.connect)

    def connect(self):  # type: ignore[no-untyped-def]
        """A client, tried once: it raises what the server or the connection raised."""
        import chromadb
        from chromadb.config import DEFAULT_DATABASE, DEFAULT_TENANT
        from chromadb.config import Settings as ChromaSettings
        from chromadb.errors import NotFoundError

        self._heartbeat()  # bounded by the timeout, unlike chromadb's first requests
        auth: dict[str, Any] = {}
        if self.token:
            auth = {
                "chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider",
                "chroma_client_auth_credentials": self.token,  # sent as "Authorization: Bearer <token>"
            }
        try:
            client = chromadb.HttpClient(
                host=self.host, port=self.port, ssl=self.ssl, headers=dict(self.headers),
                settings=ChromaSettings(anonymized_telemetry=False, **auth),
                tenant=self.tenant or DEFAULT_TENANT, database=self.database or DEFAULT_DATABASE,
            )
        except NotFoundError as exc:  # checked by chromadb as the client is made
            raise self._missing(str(exc)) from None
        self._tune(getattr(getattr(client, "_server", None), "_session", None))
        return client

    def _heartbeat(self) -> None:
        import httpx
        from chromadb.api.fastapi import FastAPI

        base = FastAPI.resolve_url(chroma_server_host=self.host, chroma_server_http_port=self.port,
                                   chroma_server_ssl_enabled=self.ssl, default_api_path="/api/v2")
        headers = dict(self.headers) | ({"Authorization": f"Bearer {self.token}"} if self.token else {})
        status = httpx.get(f"{base}/heartbeat", headers=headers, timeout=self._timeouts()).status_code
        if status in TRANSIENT_STATUS:
            raise ServerBusy(status)
        if status in (401, 403):
            raise ServerRefused(status)

    def _timeouts(self) -> Any:
        import httpx

        return httpx.Timeout(self.timeout, connect=min(self.timeout, CONNECT_SECONDS))

    def _tune(self, session: Any) -> None:
        """chromadb's HTTP session waits forever and hides status codes: bound it by the timeout, and
        raise ``ServerBusy`` on a 502/503/504 so that it is retried."""
        import httpx

        def busy(response: httpx.Response) -> None:
            if response.status_code in TRANSIENT_STATUS:
                raise ServerBusy(response.status_code)

        if isinstance(session, httpx.Client):
            session.timeout = self._timeouts()
            session.event_hooks = {"request": [], "response": [busy]}

    def _missing(self, text: str) -> ChromaSetupError:
        """The server has no such tenant or database. newsdesk never creates either: a misspelt name
        would otherwise build a fresh, empty database beside the intended one, and a hosted Chroma's
        tenants and databases belong to its account, not to an index."""
        from chromadb.config import DEFAULT_DATABASE, DEFAULT_TENANT

        tenant, database = self.tenant or DEFAULT_TENANT, self.database or DEFAULT_DATABASE
        if text.lower().startswith("tenant"):
            what, setting = f"no tenant {tenant!r}", env_name("chroma_tenant")
            how = "create it there (chromadb's AdminClient: create_tenant, or the hosting account)"
        else:
            what, setting = f"no database {database!r} in tenant {tenant!r}", env_name("chroma_database")
            how = "create it there (chromadb's AdminClient: create_database, or the hosting account)"
        return ChromaSetupError(f"The Chroma server at {self.address} has {what}: {how}, or correct {setting}. "
                                "newsdesk does not create tenants or databases.")

    def retrying(self, what: str, call: Callable[[], T], lost: Callable[[BaseException], None] | None = None) -> T:
        """``call()``, tried again after a transient error (``is_transient``) up to ``retries`` times,
        pausing 0.5, 1, 2, then 4 s between tries; ``lost`` hears of each such error first (to drop a
        connection). Refused credentials, or the retries spent, end in a ``ChromaUnavailableError``;
        any other error (a missing collection, a bad request) is raised at once, untried again."""
        started = time.monotonic()
        for attempt in range(self.retries + 1):
            try:
                return call()
            except ChromaUnavailableError:
                raise
            except Exception as exc:
                if _refused(exc):
                    raise self.unavailable(exc) from None
                if not is_transient(exc):
                    raise
                if lost is not None:
                    lost(exc)
                if attempt == self.retries:
                    raise self.unavailable(exc, attempt + 1, time.monotonic() - started) from None
                pause = RETRY_PAUSES[min(attempt, len(RETRY_PAUSES) - 1)]
                log.warning("Chroma server %s: %s while %s; retry %d of %d in %.1f s",
                            self.address, _detail(exc, self.timeout), what, attempt + 1, self.retries, pause)
                time.sleep(pause)
        raise AssertionError("unreachable")  # the loop returns or raises

    def unavailable(self, exc: BaseException, attempts: int = 1, seconds: float = 0.0) -> ChromaUnavailableError:
        detail = "it refused the credentials" if _refused(exc) else _detail(exc, self.timeout)
        tried = f", {attempts} tries over {seconds:.1f} s" if attempts > 1 else ""
        return ChromaUnavailableError(
            f"Cannot use the Chroma server at {self.address} ({detail.rstrip('.')}{tried}). Start it (for example: "
            f"chroma run --path DIR --host {self.host} --port {self.port}) or check NEWSDESK_CHROMA_HOST, "
            "NEWSDESK_CHROMA_PORT, NEWSDESK_CHROMA_SSL, NEWSDESK_CHROMA_TOKEN and NEWSDESK_CHROMA_HEADERS "
            "(NEWSDESK_CHROMA_RETRIES and NEWSDESK_CHROMA_TIMEOUT set how long it is waited for)."
        )


def _detail(exc: BaseException, timeout: float) -> str:
    """A few words on what went wrong: never a header, a token or a body of the server's."""
    import httpx

    text = str(exc)
    if isinstance(exc, httpx.TimeoutException) or re.search(r"timed out", text, re.I):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ServerBusy):
        return text
    if isinstance(exc, ValueError) and len(text) < 200:
        return text
    return type(exc).__name__


class ServerCollection:
    """A collection on a Chroma server whose every call goes through ``ChromaServer.retrying``. After a
    transient error the collection handle is fetched again, and after a lost connection the client is
    made anew too (a restarted or failed-over node). Safe to share between threads.

    Writes must be idempotent under retry: a try whose answer was lost may have been applied. The
    writer uses ``upsert`` with deterministic chunk ids (a second upsert of a batch leaves one copy of
    each chunk; chromadb 1.5.9's ``add`` of an existing id keeps the old record silently), and
    ``delete`` of ids already gone is no error."""

    def __init__(self, server: ChromaServer, name: str, embedding: Any, *, create: bool = False, client: Any = None) -> None:
        """Open (with ``create``: get or create) collection ``name``, with ``client`` if one is connected already."""
        self.server, self.name, self.embedding, self.create = server, name, embedding, create
        self._lock = threading.Lock()
        self._client: Any = client
        self._handle: Any = None
        self._epoch = 0  # bumped with every new handle: a failure drops only the handle it used
        self._retired: list[Any] = []  # clients replaced after a lost connection, closed with this
        self._call("opening collection " + name, lambda c: c)

    def _current(self) -> tuple[int, Any]:
        with self._lock:
            if self._handle is None:
                if self._client is None:
                    self._client = self.server.connect()
                if self.create:
                    self._handle = self._client.get_or_create_collection(
                        self.name, embedding_function=self.embedding, configuration={"hnsw": {"space": "cosine"}})
                else:
                    self._handle = self._client.get_collection(self.name, embedding_function=self.embedding)
                self._epoch += 1
            return self._epoch, self._handle

    def _call(self, what: str, op: Callable[[Any], T]) -> T:
        used = 0

        def attempt() -> T:
            nonlocal used
            used, handle = self._current()
            return op(handle)

        def lost(exc: BaseException) -> None:
            import httpx

            with self._lock:
                if used != self._epoch or self._handle is None:
                    return  # another thread has already replaced it (or it was never made)
                self._handle = None
                if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError) and self._client is not None:
                    self._retired.append(self._client)
                    self._client = None

        return self.server.retrying(what, attempt, lost)

    def count(self) -> int:
        return int(self._call("counting " + self.name, lambda c: c.count()))

    def get(self, **kwargs: Any) -> Any:
        return self._call("reading " + self.name, lambda c: c.get(**kwargs))

    def query(self, **kwargs: Any) -> Any:
        return self._call("searching " + self.name, lambda c: c.query(**kwargs))

    def upsert(self, **kwargs: Any) -> None:
        self._call("writing " + self.name, lambda c: c.upsert(**kwargs))

    def delete(self, **kwargs: Any) -> None:
        self._call("deleting from " + self.name, lambda c: c.delete(**kwargs))

    def close(self) -> None:
        """Close every client this collection made (a failing close is ignored: the server may be gone)."""
        with self._lock:
            clients = [*self._retired, *([self._client] if self._client is not None else [])]
            self._client, self._handle, self._retired = None, None, []
        for client in clients:
            with suppress(Exception):
                client.close()


def delete_collection(server: ChromaServer, name: str) -> None:
    """Delete a generation's collection (retried like every server call); one already gone is fine."""
    from chromadb.errors import NotFoundError

    def attempt() -> None:
        client = server.connect()
        try:
            with suppress(NotFoundError):
                client.delete_collection(name)
        finally:
            with suppress(Exception):
                client.close()

    server.retrying("deleting collection " + name, attempt)
