"""The default archive (``seeds/``: the seed page and the demo archive) answers the chat's example
questions as ``seeds/examples.jsonl`` says: from the named article, through the publisher filter the
question names, or "not in the archive"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import REPO, assert_quotes_verify

from assistant.chat import Newsdesk
from assistant.config import Settings
from assistant.embedding import SentenceTransformerEmbedder
from assistant.indexing import rebuild

DEFAULT_ARCHIVE = REPO / "seeds"
EXAMPLES = [json.loads(line) for line in (DEFAULT_ARCHIVE / "examples.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def default_desk(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Newsdesk:
    settings = Settings.from_env(index_dir=tmp_path_factory.mktemp("default") / "index")
    report = rebuild([DEFAULT_ARCHIVE], settings, embedder=embedder)
    assert report.articles > 150  # the seed page and the demo archive; its README and licences are no articles
    return Newsdesk(settings, embedder)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["question"][:40] for e in EXAMPLES])
def test_example_questions_do_what_they_show(default_desk: Newsdesk, example: dict[str, str]) -> None:
    answer = default_desk.ask(example["question"])
    if example["expect"] == "abstained":
        assert answer.abstained and not answer.quotes
        return
    assert not answer.abstained, answer.text
    assert_quotes_verify(answer, default_desk.index)
    assert answer.quotes[0].article_id == example["article_id"]
    if "answer" in example:
        assert answer.direct is not None and example["answer"] in answer.direct.text
    if "publisher" in example:
        assert answer.filters.publishers == (example["publisher"],)


def test_the_examples_show_a_filter_and_an_abstention_and_the_chat_offers_them(tmp_path: Path) -> None:
    from assistant.ui import example_questions

    assert any("publisher" in e for e in EXAMPLES) and any(e["expect"] == "abstained" for e in EXAMPLES)
    shown = example_questions([str(DEFAULT_ARCHIVE)])
    assert shown == [e["question"] for e in EXAMPLES][: len(shown)] and len(shown) >= 4
    assert any("publisher" in e and e["question"] in shown for e in EXAMPLES)
    assert any(e["expect"] == "abstained" and e["question"] in shown for e in EXAMPLES)
