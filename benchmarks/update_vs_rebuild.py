"""Incremental update of one changed article against a full rebuild, on the Horne archive, one run.

Prints, in-process (model already loaded): full rebuild, update of 1 changed article, and a rebuild of
the unchanged archive (vectors reused); then the update as a whole `newsdesk index update` process.

Usage: .venv/bin/python benchmarks/update_vs_rebuild.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
HORNE = REPO / "tests" / "data" / "horne2017" / "articles.jsonl"


def edit(path: Path, line: int, text: str) -> None:
    rows = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(rows[line])
    record["body"] += "\n\n" + text
    rows[line] = json.dumps(record)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def main() -> None:
    if not HORNE.exists():
        print(f"skipped: {HORNE} is absent")
        return
    from assistant.config import Settings
    from assistant.embedding import SentenceTransformerEmbedder
    from assistant.indexing import rebuild, update

    embedder = SentenceTransformerEmbedder()
    embedder.embed_batch(["warm up"])
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "horne.jsonl"
        shutil.copy(HORNE, archive)
        settings = Settings.from_env(index_dir=Path(tmp) / "index")
        t = time.perf_counter()
        full = rebuild([archive], settings, embedder=embedder)
        t_full = time.perf_counter() - t
        edit(archive, 5, "A correction was appended to this article on the following day.")
        t = time.perf_counter()
        upd = update([archive], settings, embedder=embedder)
        t_update = time.perf_counter() - t
        t = time.perf_counter()
        same = rebuild([archive], settings, embedder=embedder)
        t_same = time.perf_counter() - t
        edit(archive, 6, "Another correction, applied from the command line.")
        env = {**os.environ, "NEWSDESK_INDEX_DIR": str(settings.index_dir)}
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "assistant.cli", "index", "update", str(archive)], env=env, cwd=REPO,
                       check=True, capture_output=True)
        t_proc = time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import assistant.cli, assistant.indexing, sentence_transformers, chromadb"],
                       env=env, cwd=REPO, check=True, capture_output=True)
        t_start = time.perf_counter() - t
    print(f"{'run':<48}{'seconds':>9}{'chunks encoded':>16}{'vs full':>9}")
    print(f"{'full rebuild (1,732 chunks)':<48}{t_full:>9.2f}{full.embedded:>16}{1.0:>9.3f}")
    print(f"{'update, 1 changed article (in-process)':<48}{t_update:>9.2f}{upd.embedded:>16}{t_update / t_full:>9.3f}")
    print(f"{'rebuild of the unchanged archive (reuse)':<48}{t_same:>9.2f}{same.embedded:>16}{t_same / t_full:>9.3f}")
    print(f"{'`newsdesk index update` whole process':<48}{t_proc:>9.2f}{'':>16}{t_proc / t_full:>9.3f}")
    print(f"{'  of which process start-up (imports)':<48}{t_start:>9.2f}")


if __name__ == "__main__":
    main()
