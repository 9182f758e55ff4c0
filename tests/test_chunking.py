from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.chunking import chunk_article, sentence_spans
from assistant.embedding import SentenceTransformerEmbedder
from assistant.records import Article


def article(body: str) -> Article:
    return Article("a1", "Title", body, None, None, None, None, None, "mem", 1)


def test_chunks_fit_the_model_and_cover_the_body(embedder: SentenceTransformerEmbedder) -> None:
    body = "\n\n".join(f"Sentence number {i} talks about the Senate vote on the budget for {2000 + i}." for i in range(120))
    chunks = chunk_article(article(body), embedder.count_tokens, 100, 1)
    assert len(chunks) > 5
    assert all(body[c.start : c.end] == c.text for c in chunks)
    assert max(embedder.count_tokens([c.text for c in chunks])) <= 100
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(body) if not ch.isspace())
    assert chunks[1].start < chunks[0].end  # one sentence of overlap


def test_a_sentence_longer_than_the_budget_is_cut_at_words(embedder: SentenceTransformerEmbedder) -> None:
    body = "word " * 400 + "end."
    chunks = chunk_article(article(body.strip()), embedder.count_tokens, 64, 0)
    assert len(chunks) >= 6
    assert all(n <= 64 for n in embedder.count_tokens([c.text for c in chunks]))


def test_abbreviations_do_not_split_sentences() -> None:
    text = "It was indicated in the Russian-U.S. accord. A new sentence starts here."
    spans = sentence_spans(text)
    assert [text[s.start : s.end] for s in spans] == ["It was indicated in the Russian-U.S. accord.", "A new sentence starts here."]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=80), min_size=1, max_size=12))
def test_sentence_spans_are_exact_substrings(paragraphs: list[str]) -> None:
    text = "\n".join(paragraphs)
    for s in sentence_spans(text):
        piece = text[s.start : s.end]
        assert piece and piece == piece.strip() and "\n" not in piece
