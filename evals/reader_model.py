"""The answer reader studied in ``study_reader.py``: how likely a sentence is to answer a question,
read by a small cross-encoder. Not part of newsdesk: on the dev questions it did not separate
answerable from unanswerable ones (see evals/README.md).

The model (an int8 ONNX file) is the packaged all-MiniLM-L6-v2 fine-tuned
by ``evals/train_reader.py`` on pairs built from the archives' own sentences: a question made from
a sentence that states an answer, against that sentence (answers) and against its near misses (a
sibling sentence without the answer, the question with one of its names or figures swapped, a
question asking for a kind of answer the sentence lacks); a JSON card beside it records what it was
trained on. It reads the question and the sentence together, so it sees what the word-level
signals cannot: whether the sentence's answer is about what the question asks.

Its tokenizer is the packaged MiniLM's. onnxruntime and tokenizers are already the default
encoder's dependencies; torch is needed only to train.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

MAX_LENGTH = 128


class Reader:
    """Scores (question, sentence) pairs: the probability that the sentence answers the question."""

    def __init__(self, model: Path, threads: int = 1) -> None:
        self.path = model
        self.threads = threads
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.path.is_file()

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        from assistant.embedding import resolve_model

        _, model_dir = resolve_model("")
        tok = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        tok.enable_truncation(max_length=MAX_LENGTH, strategy="only_second")
        tok.enable_padding()
        return tok

    @cached_property
    def _session(self) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        return ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def scores(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """The probability that each sentence answers ``question``."""
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        with self._lock:
            encodings = self._tokenizer.encode_batch([(question, s) for s in sentences])
            feed = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            logits = self._session.run(["logit"], feed)[0].reshape(-1)
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))
