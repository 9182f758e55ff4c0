"""A data set's own label of a record ("satire", "fake", "reliable") travels with the article: the
source line and the answer's attribution show it, ``ask --json`` carries it; schema types are no labels.
Source lines show what an article has and say nothing of what it lacks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from test_cli import newsdesk

from assistant.cleaning import dataset_label
from assistant.records import Source
from assistant.terminal import source_line


def test_labels_from_jsonl_and_csv_reach_the_source_line_and_json(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "horne.jsonl").write_text(json.dumps({
        "id": "satire-1", "label": "satire", "title": "Mayor declares war on Tuesdays",
        "body": "The mayor of Quillby announced that Tuesdays would be abolished from next month, citing low morale. "
                "Residents were told to skip directly from Monday to Wednesday."}) + "\n", encoding="utf-8")
    with (archive / "fnc.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["id", "domain", "type", "title", "content"])
        out.writerow(["77", "harbourwire.example", "reliable", "Quillby harbour reopens",
                      "The Quillby harbour reopened on Friday after three weeks of dredging, the port authority said."])
    index_dir = tmp_path / "index"
    built = newsdesk("index", "rebuild", str(archive), index_dir=index_dir)
    assert built.returncode == 0, built.stderr

    asked = newsdesk("ask", "What did the mayor of Quillby announce about Tuesdays?", index_dir=index_dir)
    assert asked.returncode == 0, asked.stderr
    assert "labelled “satire” by the data set" in asked.stdout  # the source line
    assert "labelled satire by the data set" in asked.stdout  # the answer's own attribution
    data = json.loads(newsdesk("ask", "--json", "When did the Quillby harbour reopen?", index_dir=index_dir).stdout)
    assert data["sources"][0]["label"] == "reliable"
    assert "unknown publisher" not in asked.stdout.lower() and "date unknown" not in asked.stdout


@pytest.mark.parametrize(("value", "label"), [("satire", "satire"), ("Fake", "fake"), ("junksci", "junksci"),
                                              ("NewsArticle", None), ("article", None), ("", None), (None, None),
                                              (3, None), ("a very long sentence that is not a label at all", None)])
def test_dataset_labels(value: object, label: str | None) -> None:
    assert dataset_label(value) == label


def test_a_source_line_leaves_out_what_the_article_lacks() -> None:
    bare = Source(1, "random/Real/150", "Cabinet pick named", None, None, None, None, "/archive/articles.jsonl")
    assert source_line(bare) == "[1] Cabinet pick named — /archive/articles.jsonl"
    full = Source(2, "x", "T", "The Washington Post", "Karen DeYoung", "2016-09-28", "https://wapo.example/x", "x.jsonl",
                  label="real")
    assert source_line(full) == "[2] T — The Washington Post — 2016-09-28 — Karen DeYoung — labelled “real” by the data set — https://wapo.example/x"


def test_cards_show_what_the_article_has() -> None:
    from assistant.records import Quote
    from assistant.ui.html import nearest_card, quote_card, source_html

    bare = Source(1, "random/Real/150", "Cabinet pick named", None, None, None, None, "/archive/articles.jsonl", label="real")
    quote = Quote("random/Real/150", 0, 30, "The president named a cabinet.", 1)
    for html in (quote_card(quote, bare, 0), source_html(bare), nearest_card(bare, 0)):
        assert "nknown publisher" not in html and "date unknown" not in html
        assert ('class="nd-label"' in html and ">real<" in html) or "labelled “real” by the data set" in html
    dated = Source(2, "x", "T", "The Washington Post", None, "2016-09-28", None, "x.jsonl")
    card = quote_card(Quote("x", 0, 30, "The president named a cabinet.", 2), dated, 0)
    assert "The Washington Post" in card and "28 Sep 2016" in card and "nd-label" not in card
