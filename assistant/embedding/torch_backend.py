"""The torch backend: any sentence-transformers model, and the one-off ONNX export of its transformer.

torch, transformers and sentence-transformers are imported here only, and only inside the
functions that need them, so importing this module (or choosing the ONNX backend) loads none of them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..config import DEFAULT_MODEL
from ..errors import ConfigError
from .base import Embedder, pool_spans, resolve_model

OPSET = 17


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model, loaded without network access unless it is a local path."""

    backend = "torch"

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, device: str = "cpu") -> None:
        self.model_id, self._load_from = resolve_model(model)
        self.batch_size = batch_size
        self.device = device

    @cached_property
    def _model(self) -> Any:
        _offline()
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
    def tokenizer(self) -> Any:
        return self._model.tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        enc = self.tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in enc]

    def use_threads(self, threads: int) -> int:
        """Set torch's CPU threads (0: all cores); returns the previous count."""
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(threads if threads > 0 else (os.cpu_count() or 1))
        return previous

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
        and each span's vector (``pool_spans`` of the token embeddings).

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
        span_vectors = [
            pool_spans(out["token_embeddings"][: len(offs)].float().numpy(), offs, text_spans)
            for out, offs, text_spans in zip(outputs, offsets, spans, strict=True)
        ]
        return vectors, span_vectors


def export_onnx(model_dir: Path, out: Path) -> None:
    """Export the transformer of ``model_dir`` to ``out`` for the ONNX backend: inputs ids/mask/types,
    output last_hidden_state."""
    _offline()
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager").eval()
    sample = tokenizer(["an example sentence to trace", "a shorter one"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}

    class HiddenStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            HiddenStates(),
            tuple(sample[n] for n in names),
            str(out),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
