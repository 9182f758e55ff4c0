"""The real `newsdesk` command in a subprocess: what a user types and sees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import REPO, SEEDS

from assistant.errors import IndexMissingError, InputError

QUESTION = "How many civilians are trapped in eastern Aleppo?"


def newsdesk(*args: str, index_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSDESK_INDEX_DIR": str(index_dir), "PYTHONPATH": str(REPO), "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=600)


def test_rebuild_status_ask_and_json(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    built = newsdesk("index", "rebuild", str(SEEDS), index_dir=index_dir)
    assert built.returncode == 0, built.stderr
    assert "Indexed 1 articles" in built.stdout
    assert "questions.jsonl: skipped: a question set" in built.stdout

    status = newsdesk("index", "status", index_dir=index_dir)
    assert status.returncode == 0
    for expected in ("1 (", "The Washington Post", "all-MiniLM-L6-v2", "384 dimensions"):
        assert expected in status.stdout

    asked = newsdesk("ask", QUESTION, index_dir=index_dir)
    assert asked.returncode == 0, asked.stderr
    assert "more than 250,000 civilians are trapped" in asked.stdout
    assert "[1]" in asked.stdout
    assert "[1] U.S. threatens to suspend all bilateral cooperation with Russia — The Washington Post — 2016 — Karen DeYoung" in asked.stdout

    as_json = newsdesk("ask", "--json", QUESTION, index_dir=index_dir)
    data = json.loads(as_json.stdout)
    assert data["abstained"] is False and data["timings"]["total"] > 0
    body = (SEEDS / "000_1188ee5dcc83ef1c.txt").read_text(encoding="utf-8")
    for q in data["quotes"]:
        assert q["verification"] in ("verified", "repaired") and q["text"] in body
        assert q["end"] - q["start"] == len(q["text"])
    assert {"text", "quotes", "sources", "abstained", "timings", "searched_query", "filters"} <= set(data)


def test_ask_without_an_index_explains_how_to_build_one(tmp_path: Path) -> None:
    result = newsdesk("ask", QUESTION, index_dir=tmp_path / "none")
    assert result.returncode == IndexMissingError.exit_code
    assert "newsdesk index rebuild" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_options_are_explained(tmp_path: Path) -> None:
    result = newsdesk("ask", "--since", "last tuesday", QUESTION, index_dir=tmp_path / "none")
    assert result.returncode != 0 and "YYYY-MM-DD" in result.stderr and "Traceback" not in result.stderr


def test_bad_filter_options_exit_with_the_input_code(tmp_path: Path) -> None:
    """Options are checked before anything is opened: a bad date or an empty range is exit 2 (README)."""
    not_a_date = newsdesk("ask", "--since", "notadate", QUESTION, index_dir=tmp_path / "none")
    assert not_a_date.returncode == InputError.exit_code == 2, not_a_date.stderr
    assert "--since" in not_a_date.stderr and "YYYY-MM-DD" in not_a_date.stderr and "Traceback" not in not_a_date.stderr
    backwards = newsdesk("ask", "--since", "2016-10-01", "--until", "2016-09-01", QUESTION, index_dir=tmp_path / "none")
    assert backwards.returncode == 2, backwards.stderr
    assert "2016-10-01 is after 2016-09-01" in backwards.stderr and "Traceback" not in backwards.stderr


STATUS_KEYS = ["index_dir", "generation", "notice", "store", "articles", "chunks", "publishers", "date_min", "date_max",
               "undated", "model", "dimension", "backend", "model_matches_settings", "chunk_tokens", "chromadb", "built_at",
               "build_seconds", "sources", "rejected", "duplicates", "built_on"]


def test_status_json_names_every_field(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    assert newsdesk("index", "rebuild", str(SEEDS), index_dir=index_dir).returncode == 0
    shown = newsdesk("index", "status", "--json", index_dir=index_dir)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert list(data) == STATUS_KEYS
    assert data["index_dir"] == str(index_dir) and data["notice"] == "" and data["store"] == "embedded"
    assert (data["articles"], data["publishers"], data["undated"]) == (1, ["The Washington Post"], 1)
    assert (data["date_min"], data["date_max"]) == (None, None)
    assert data["model"].endswith("all-MiniLM-L6-v2") and data["dimension"] == 384 and data["model_matches_settings"] is True
    assert data["sources"] == [str(SEEDS)] and isinstance(data["build_seconds"], float)
    assert (data["rejected"], data["duplicates"]) == (0, 0)
    assert data["built_on"] == "this machine"  # a Ray build names its cluster (tests/test_ray_build.py)


def test_a_usage_error_is_one_message_without_a_traceback(tmp_path: Path) -> None:
    run = newsdesk("index", "update", "--bogus", "x", index_dir=tmp_path / "index")
    assert run.returncode == 2
    assert "No such option: --bogus" in run.stderr and "Traceback" not in run.stderr and "╭" not in run.stderr
