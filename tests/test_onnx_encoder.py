"""The ONNX encoder: fp32 gives the torch encoder's vectors, int8 stays close, the export is cached."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import HORNE, SEEDS

from assistant.chunking import chunk_article, embed_text, sentence_spans
from assistant.config import Settings
from assistant.embedding import OnnxEmbedder, SentenceTransformerEmbedder
from assistant.embedding.onnx_backend import _write_atomically, quantize_int8
from assistant.errors import ConfigError
from assistant.indexing import rebuild
from assistant.records import Article
from assistant.sources import read_file
from assistant.store import IndexPaths, Manifest


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache per test session: the model is exported (and quantised) once."""
    return tmp_path_factory.mktemp("onnx-models")


@pytest.fixture(scope="session")
def fp32(onnx_cache: Path) -> OnnxEmbedder:
    e = OnnxEmbedder(onnx_cache, "onnx-fp32")
    e.embed_batch(["warm up"])
    return e


@pytest.fixture(scope="session")
def int8(onnx_cache: Path, fp32: OnnxEmbedder) -> OnnxEmbedder:
    e = OnnxEmbedder(onnx_cache, "onnx-int8")
    e.embed_batch(["warm up"])
    return e


def seed_chunks(embedder: SentenceTransformerEmbedder) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """The seed article's chunks as the index embeds them, with each chunk's sentence spans."""
    (article,) = [r for r in read_file(SEEDS / "000_1188ee5dcc83ef1c.txt") if isinstance(r, Article)]
    texts, spans = [], []
    for c in chunk_article(article, embedder.count_tokens, 200, 1):
        text = embed_text(article, c)
        shift = len(text) - len(c.text)
        texts.append(text)
        spans.append([(s.start + shift, s.end + shift) for s in sentence_spans(c.text)])
    return texts, spans


def horne_sentences(n: int) -> list[str]:
    sentences: list[str] = []
    with HORNE.open(encoding="utf-8") as f:
        for line in f:
            body = json.loads(line)["body"]
            sentences += [body[s.start : s.end] for s in sentence_spans(body) if s.end - s.start > 40][:2]
            if len(sentences) >= n:
                break
    return sentences[:n]


# ---- without an export ------------------------------------------------------------------------


def test_records_model_and_backend_separately(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    e = OnnxEmbedder(tmp_path, "onnx-int8")
    assert (e.model_id, e.backend, e.dimension, e.max_tokens) == (embedder.model_id, "onnx-int8", 384, 256)
    assert embedder.backend == "torch"
    assert e.model_path("onnx-fp32") != e.model_path("onnx-int8")
    assert not list(tmp_path.iterdir()), "constructing must not export"


def test_unknown_backend_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="onnx-fp32, onnx-int8"):
        OnnxEmbedder(tmp_path, "onnx-fp16")


def test_counts_tokens_like_the_torch_encoder(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    texts, _ = seed_chunks(embedder)
    texts += ["", "  Ça va? naïve café — “quoted” ", "x" * 3000]
    assert OnnxEmbedder(tmp_path).count_tokens(texts) == embedder.count_tokens(texts)


def test_a_failed_export_leaves_nothing_behind(tmp_path: Path) -> None:
    def half_written(tmp: Path) -> None:
        tmp.write_bytes(b"half an onnx model")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _write_atomically(tmp_path / "models" / "m.onnx", half_written)
    assert list((tmp_path / "models").iterdir()) == []
    _write_atomically(tmp_path / "models" / "m.onnx", lambda tmp: tmp.write_bytes(b"whole"))
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["m.onnx"]
    assert (tmp_path / "models" / "m.onnx").read_bytes() == b"whole"


# ---- with the exported model --------------------------------------------------------------------


@pytest.mark.slow
def test_fp32_gives_the_torch_vectors(fp32: OnnxEmbedder, embedder: SentenceTransformerEmbedder) -> None:
    texts, _ = seed_chunks(embedder)
    texts += ["Who chairs the Senate committee?", "  Ça va? naïve café — “quoted” "]
    cosines = (fp32.embed_batch(texts) * embedder.embed_batch(texts)).sum(axis=1)
    assert cosines.min() > 0.9999
    assert np.allclose(np.linalg.norm(fp32.embed_batch(texts), axis=1), 1.0, atol=1e-5)
    assert fp32.embed_batch([]).shape == (0, 384)


@pytest.mark.slow
def test_fp32_span_vectors_match_the_torch_encoder(fp32: OnnxEmbedder, embedder: SentenceTransformerEmbedder) -> None:
    texts, spans = seed_chunks(embedder)
    spans[0] = [*spans[0], (len(texts[0]) + 10, len(texts[0]) + 20)]  # outside the text: a zero vector in both
    ours, our_spans = fp32.embed_with_spans(texts, spans)
    theirs, their_spans = embedder.embed_with_spans(texts, spans)
    assert (ours * theirs).sum(axis=1).min() > 0.9999
    for a, b, text_spans in zip(our_spans, their_spans, spans, strict=True):
        assert a.shape == b.shape == (len(text_spans), 384)
        real = np.linalg.norm(b, axis=1) > 0
        assert (np.linalg.norm(a, axis=1) > 0).tolist() == real.tolist()
        assert (a[real] * b[real]).sum(axis=1).min() > 0.9999
    assert sum(len(s) for s in spans) > 10


@pytest.mark.slow
def test_threads_change_between_runs_not_the_vectors(fp32: OnnxEmbedder) -> None:
    texts = ["Who chairs the Senate committee?", "The committee met on Tuesday in Washington."]
    before = fp32.embed_batch(texts)
    previous = fp32.use_threads(1)  # as Newsdesk sets query_threads
    try:
        assert previous == 2
        assert np.allclose(fp32.embed_batch(texts), before, atol=1e-5)
        assert fp32.use_threads(0) == 1  # 0: all cores, as a rebuild sets index_threads
    finally:
        fp32.use_threads(previous)


@pytest.mark.slow
def test_int8_stays_close_to_fp32(fp32: OnnxEmbedder, int8: OnnxEmbedder) -> None:
    sentences = horne_sentences(50)
    cosines = (fp32.embed_batch(sentences) * int8.embed_batch(sentences)).sum(axis=1)
    assert len(sentences) == 50
    assert cosines.mean() >= 0.99, f"mean cosine {cosines.mean():.4f}"


@pytest.mark.slow
def test_quantising_leaves_logging_as_it_was(fp32: OnnxEmbedder, tmp_path: Path) -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    quantize_int8(fp32.model_path(), tmp_path / "int8.onnx")  # onnxruntime's import calls logging.basicConfig
    assert (list(root.handlers), root.level) == before


@pytest.mark.slow
def test_the_export_is_reused(onnx_cache: Path, int8: OnnxEmbedder) -> None:
    files = sorted(onnx_cache.glob("*.onnx"))
    assert [p.name.rsplit("-", 2)[-2:] for p in files] == [["onnx", "fp32.onnx"], ["onnx", "int8.onnx"]]
    before = {p: p.stat().st_mtime_ns for p in files}
    again = OnnxEmbedder(onnx_cache, "onnx-int8")
    assert np.allclose(again.embed_batch(["a sentence"]), int8.embed_batch(["a sentence"]))
    assert {p: p.stat().st_mtime_ns for p in files} == before
    assert sorted(onnx_cache.iterdir()) == files, "no temporary files are left behind"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("backend", "damaged", "missing"),
    [("onnx-fp32", "onnx-fp32", None), ("onnx-int8", "onnx-int8", None), ("onnx-int8", "onnx-fp32", "onnx-int8")],
    ids=["fp32", "int8", "fp32-source-of-missing-int8"],
)
def test_a_damaged_cache_file_is_exported_again(
    backend: str, damaged: str, missing: str | None, onnx_cache: Path, fp32: OnnxEmbedder, int8: OnnxEmbedder, tmp_path: Path
) -> None:
    for p in onnx_cache.glob("*.onnx"):
        shutil.copy2(p, tmp_path / p.name)
    embedder = OnnxEmbedder(tmp_path, backend)
    embedder.model_path(damaged).write_bytes(b"not an onnx model")
    if missing:
        embedder.model_path(missing).unlink()
    with pytest.warns(RuntimeWarning, match="Re-exporting the damaged ONNX model"):
        vector = embedder.embed_query("a sentence")
    reference = fp32 if backend == "onnx-fp32" else int8
    assert float(vector @ reference.embed_query("a sentence")) > 0.9999
    assert embedder.model_path().stat().st_size > 1_000_000


@pytest.mark.slow
def test_the_manifest_records_the_backend(int8: OnnxEmbedder, settings: Settings) -> None:
    rebuild([SEEDS], settings, embedder=int8)
    live = IndexPaths(settings.index_dir).live_generation()
    assert live is not None
    manifest = Manifest.load(live / "manifest.json")
    assert (manifest.model_id, manifest.backend, manifest.dimension) == (int8.model_id, "onnx-int8", 384)
