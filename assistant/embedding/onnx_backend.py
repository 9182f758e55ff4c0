"""The ONNX backend: the packaged encoder run by ONNX Runtime instead of torch, fp32 (same vectors)
or int8 (faster).

The model is exported once (``torch_backend.export_onnx``; int8: ``quantize_dynamic`` of the
MatMuls, per channel) into a cache directory, keyed by model id, a hash of the weights and the
backend, and re-used by every later process. At run time only ``onnxruntime`` and ``tokenizers``
are needed. Vectors are pooled as sentence-transformers pools this model: mean over the real
tokens (special tokens included), L2-normalised.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..config import DEFAULT_MODEL
from ..errors import ConfigError
from .base import Embedder, pool_spans, resolve_model
from .torch_backend import export_onnx

BACKENDS = ("onnx-fp32", "onnx-int8")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")

TokenSink = Callable[[int, np.ndarray, list[tuple[int, int]]], None]  # (text index, token embeddings, offsets)


class OnnxEmbedder(Embedder):
    """A sentence-transformers model (mean pooling) exported to ONNX; ``backend`` is the manifest's record."""

    def __init__(
        self,
        cache_dir: Path,
        backend: str = "onnx-fp32",
        model: str = DEFAULT_MODEL,
        batch_size: int = 32,
        threads: int = 2,
    ) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"Unknown ONNX backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
        self.model_id, load_from = resolve_model(model)
        self.model_dir = Path(load_from)
        if not (self.model_dir / "config.json").is_file():
            raise ConfigError(
                f"The ONNX backend needs a local model directory; {load_from!r} is not one. "
                "Use NEWSDESK_EMBED_BACKEND=torch, or give the model's path."
            )
        self.backend = backend
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self.threads = threads
        self._sessions: dict[int, Any] = {}  # one per thread count: ORT fixes it when a session opens
        self._lock = threading.Lock()

    # ---- model facts, read from the model directory without loading it ----------------------

    @cached_property
    def dimension(self) -> int:  # type: ignore[override]
        return int(_read_json(self.model_dir / "config.json")["hidden_size"])

    @cached_property
    def max_tokens(self) -> int:  # type: ignore[override]
        path = self.model_dir / "sentence_bert_config.json"
        config = _read_json(path) if path.is_file() else {}
        return int(config.get("max_seq_length") or 512)

    @cached_property
    def weights_hash(self) -> str:
        weights = next((self.model_dir / n for n in WEIGHT_FILES if (self.model_dir / n).is_file()), None)
        if weights is None:
            raise ConfigError(f"No weights ({' or '.join(WEIGHT_FILES)}) in {self.model_dir}.")
        digest = hashlib.sha256()
        with weights.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()[:16]

    def model_path(self, backend: str | None = None) -> Path:
        """The cached ``.onnx`` file of ``backend`` (this embedder's by default): keyed by the model,
        a hash of its weights and the versions of newsdesk and onnxruntime, so a new release of
        either exports again."""
        slug = re.sub(r"[^A-Za-z0-9._-]+", "--", self.model_id).strip("-")[-80:]
        return self.cache_dir / f"{slug}-{self.weights_hash}-{_stack_version()}-{backend or self.backend}.onnx"

    # ---- tokenizers: one truncating (model input, offsets), one not (counting) --------------

    @cached_property
    def _tokenizer(self) -> Any:
        tok = self._load_tokenizer()
        tok.enable_truncation(max_length=self.max_tokens)
        return tok

    @cached_property
    def _counter(self) -> Any:
        return self._load_tokenizer()

    def _load_tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tok.no_padding()
        tok.no_truncation()
        return tok

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=False)]

    # ---- the ONNX session, exported on first use --------------------------------------------

    def use_threads(self, threads: int) -> int:
        """Threads for the next runs (0: all cores); returns the previous count. Each count gets its own
        session (opened on first use, kept: a query session and an indexing session, ~60–90 MB each)."""
        previous = self.threads
        self.threads = threads if threads > 0 else (os.cpu_count() or 1)
        return previous

    @property
    def _session(self) -> Any:
        threads = self.threads
        with self._lock:
            if threads not in self._sessions:
                self._sessions[threads] = self._load(threads)
            return self._sessions[threads]

    def _load(self, threads: int) -> Any:
        try:
            return self._open(self._ensure_exported(), threads)
        except Exception as exc:  # a damaged cached file (or its damaged fp32 source): export again, once
            path = self.model_path()
            warnings.warn(f"Re-exporting the damaged ONNX model {path} ({type(exc).__name__}).", RuntimeWarning, stacklevel=2)
            for backend in {self.backend, "onnx-fp32"}:
                self.model_path(backend).unlink(missing_ok=True)
            return self._open(self._ensure_exported(), threads)

    def _open(self, path: Path, threads: int) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Spinning workers slow everything down when other processes share the cores (measured).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def _ensure_exported(self) -> Path:
        fp32 = self.model_path("onnx-fp32")
        if not self.model_path().is_file():  # said once, on the first build: it takes a while and needs torch
            logging.getLogger("newsdesk").warning(
                "Preparing the %s encoder once (about half a minute); it is kept in %s for every later run.",
                self.backend, self.cache_dir)
        if not fp32.is_file():
            _write_atomically(fp32, lambda tmp: export_onnx(self.model_dir, tmp))
        if self.backend == "onnx-fp32":
            return fp32
        int8 = self.model_path("onnx-int8")
        if not int8.is_file():
            _write_atomically(int8, lambda tmp: quantize_int8(fp32, tmp))
        return int8

    # ---- encoding -----------------------------------------------------------------------------

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One forward pass: each text's vector and each span's vector (``pool_spans`` of the token
        embeddings, as the torch encoder pools them)."""
        if len(spans) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        span_vectors = [np.zeros((len(s), self.dimension), dtype=np.float32) for s in spans]

        def on_tokens(i: int, hidden: np.ndarray, offsets: list[tuple[int, int]]) -> None:
            span_vectors[i] = pool_spans(hidden, offsets, spans[i])

        return self._encode(texts, on_tokens), span_vectors

    def _encode(self, texts: Sequence[str], on_tokens: TokenSink | None = None) -> np.ndarray:
        """Vectors in input order, batched longest first; ``on_tokens(i, token embeddings, offsets)``
        sees each text's real tokens (special ones included) while its batch is in memory."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return vectors
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))  # as sentence-transformers sorts
        for at in range(0, len(order), self.batch_size):
            batch = order[at : at + self.batch_size]
            hidden, mask = self._forward([encodings[i] for i in batch])
            pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
            vectors[batch] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            if on_tokens is not None:
                for row, i in enumerate(batch):
                    on_tokens(i, hidden[row, : len(encodings[i].ids)], encodings[i].offsets)
        return vectors

    def _forward(self, encodings: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """last_hidden_state (float32) and the attention mask (float32) of one padded batch."""
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n] = e.ids
            types[row, :n] = e.type_ids
            mask[row, :n] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        session = self._session
        wanted = {i.name for i in session.get_inputs()}
        (hidden,) = session.run(["last_hidden_state"], {k: v for k, v in feeds.items() if k in wanted})
        return np.asarray(hidden, dtype=np.float32), mask.astype(np.float32)


def _stack_version() -> str:
    """"nd0.1.0-ort1.32.0": what produced an export besides the weights."""
    from importlib.metadata import PackageNotFoundError, version

    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "0"

    return f"nd{of('newsdesk')}-ort{of('onnxruntime')}"


# ---- int8 quantisation and the cache files ------------------------------------------------


def quantize_int8(fp32: Path, out: Path) -> None:
    """Dynamic int8 quantisation of the MatMuls, per channel (the default settings lose too much)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = _DropMessage("pre-processing before quantization")  # advice we measured and do not need
    root.addFilter(quiet)
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic  # its import calls logging.basicConfig

        quantize_dynamic(
            str(fp32), str(out), per_channel=True, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8
        )
    finally:
        root.removeFilter(quiet)
        root.handlers[:], root.level = handlers, level  # leave the process's logging as it was


class _DropMessage(logging.Filter):
    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


def _write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """``write`` a temporary file next to ``target``, then rename it into place (safe across processes)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        tmp.chmod(0o644)  # mkstemp makes it private; the cache is shared like the index
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}") from None
    return data if isinstance(data, dict) else {}
