"""The default encoder is the packaged model exported once to ONNX (fp32: the same vectors as torch,
chosen by benchmarks/backend_choice.py): the first build says it prepares it and caches it under the
index directory, later builds reuse it, and answering a question imports neither torch nor
sentence-transformers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from helpers import REPO, SEED_PAGE

from assistant.config import Settings

QUESTION = "How many civilians are trapped in eastern Aleppo?"


def run(*args: str, index_dir: Path, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NEWSDESK_EMBED_BACKEND"}  # the default, not the suite's torch
    env.update(NEWSDESK_INDEX_DIR=str(index_dir), PYTHONPATH=str(REPO), COLUMNS="200")
    return subprocess.run([sys.executable, *python, "-m", "assistant.cli", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=600)


def test_the_default_backend_is_onnx_fp32_exported_once_and_answering_needs_no_torch(tmp_path: Path) -> None:
    assert Settings().embed_backend == "onnx-fp32"
    index_dir = tmp_path / "index"
    first = run("index", "rebuild", str(SEED_PAGE), index_dir=index_dir)
    assert first.returncode == 0, first.stderr
    assert "Preparing the onnx-fp32 encoder once" in first.stderr
    assert [p.name for p in (index_dir / ".models").glob("*.onnx")], "the export is cached under the index directory"
    again = run("index", "rebuild", str(SEED_PAGE), index_dir=index_dir)
    assert again.returncode == 0 and "Preparing" not in again.stderr

    status = run("index", "status", index_dir=index_dir)
    assert "onnx-fp32" in status.stdout

    asked = run("ask", QUESTION, index_dir=index_dir, python=("-X", "importtime"))
    assert asked.returncode == 0 and "250,000" in asked.stdout
    imported = {m.group(1) for m in re.finditer(r"\|\s+([\w.]+)$", asked.stderr, re.M)}
    assert not {"torch", "sentence_transformers", "transformers", "llama_index.core", "datasketch"} & imported
