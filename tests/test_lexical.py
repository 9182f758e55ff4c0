"""The on-disk BM25 writer gives exactly the scores bm25s computes in memory."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.lexical import terms
from assistant.store.bm25 import BM25Writer

WORDS = st.sampled_from(["court", "vote", "senat", "tax", "syria", "aleppo", "clinton", "email", "fbi", "wall"])
CORPUS = st.lists(st.lists(WORDS, max_size=12), min_size=1, max_size=25)


def build(directory: Path, corpus: list[list[str]], pass_postings: int) -> bm25s.BM25:
    writer = BM25Writer(directory, pass_postings=pass_postings)
    for doc in corpus:
        writer.add(doc)
    writer.finish()
    return bm25s.BM25.load(str(directory), mmap=True, show_progress=False)


def assert_same_scores(ours: bm25s.BM25, corpus: list[list[str]]) -> None:
    reference = bm25s.BM25()
    reference.index(corpus, show_progress=False)
    vocabulary = sorted({t for doc in corpus for t in doc})
    for query in [[t] for t in vocabulary] + [vocabulary[:3], vocabulary[-2:], ["absent", *vocabulary[:1]]]:
        want = reference.get_scores(query) if any(t in reference.vocab_dict for t in query) else np.zeros(len(corpus))
        np.testing.assert_allclose(ours.get_scores(query), want, rtol=1e-5, atol=1e-6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpus=CORPUS, pass_postings=st.integers(min_value=1, max_value=40))
def test_streamed_index_scores_like_bm25s(tmp_path_factory: pytest.TempPathFactory, corpus: list[list[str]], pass_postings: int) -> None:
    if not any(corpus):
        return  # bm25s cannot index a corpus without a single token
    directory = tmp_path_factory.mktemp("bm25")
    ours = build(directory, corpus, pass_postings)
    assert_same_scores(ours, corpus)
    assert not list(directory.glob("spool.*")), "the spool is removed once the index is written"


def test_real_text_in_many_passes(tmp_path: Path) -> None:
    """Real sentences, more than one pass over the spool (a small postings budget), more documents than one read."""
    text = (Path(__file__).parent.parent / "seeds").glob("*")
    sentences = [s for p in text if p.is_file() and p.suffix != ".jsonl" for s in p.read_text(encoding="utf-8").split(".")]
    corpus = [terms(s) for s in sentences if terms(s)] * 400
    ours = build(tmp_path, corpus, pass_postings=997)
    assert ours.scores["num_docs"] == len(corpus) > 2 * 2_048
    assert_same_scores(ours, corpus)


def test_empty_documents_and_empty_corpus(tmp_path: Path) -> None:
    ours = build(tmp_path / "a", [["tax"], [], ["tax", "vote"]], pass_postings=1)
    assert ours.get_scores(["vote"])[2] > 0 and ours.get_scores(["tax"])[1] == 0
    empty = build(tmp_path / "b", [], pass_postings=1)
    assert empty.scores["num_docs"] == 0
