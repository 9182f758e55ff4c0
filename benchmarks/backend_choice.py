"""Which encoder backend is the default: torch fp32, ONNX fp32 and ONNX int8 side by side in one run.

For each backend and each archive (the seed page, the Horne 2017 archive, the FakeNewsCorpus
sample) an index is built with ``newsdesk index rebuild`` (rebuild throughput: chunks/s over the
whole build, export of the ONNX model excluded: it is done once beforehand and cached), then every
dev question set on that archive is run through ``newsdesk eval``: article Hit@1, MRR@10, evidence
recall and question latency p50. A backend qualifies when its MRR@10 is within 0.005 of torch fp32
on every set; the fastest qualifying backend is the one to make the default.

Usage: .venv/bin/python benchmarks/backend_choice.py [--work DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
ARCHIVES = {
    "seed": REPO / "seeds" / "000_1188ee5dcc83ef1c.txt",  # the seed page alone (seeds/ also holds the demo archive)
    "horne": DATA / "horne2017" / "articles.jsonl",
    "fnc": DATA / "fakenewscorpus-sample" / "news_sample.csv",
}
SETS = {
    "questions": (REPO / "seeds" / "questions.jsonl", "seed"),
    "horne_dev": (REPO / "evals" / "horne_dev.jsonl", "horne"),
    "nearmiss_horne": (REPO / "evals" / "nearmiss_horne.jsonl", "horne"),
    "nearmiss_fnc": (REPO / "evals" / "nearmiss_fnc.jsonl", "fnc"),
    "nearmiss_seed": (REPO / "evals" / "nearmiss_seed.jsonl", "seed"),
}
BACKENDS = ("torch", "onnx-fp32", "onnx-int8")
MAX_MRR_LOSS = 0.005


def newsdesk(args: list[str], backend: str) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
           "NEWSDESK_EMBED_BACKEND": backend, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"newsdesk {' '.join(args)} ({backend}) failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=None, help="where to build the indexes (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the indexes and reports")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="newsdesk-backends-"))
    builds: dict[str, tuple[int, float]] = {}
    metrics: dict[tuple[str, str], dict[str, float]] = {}
    try:
        for backend in BACKENDS:
            chunks, seconds = 0, 0.0
            if backend != "torch":  # the one-time export (cached under the index directory), timed apart
                started = time.perf_counter()
                newsdesk(["index", "rebuild", str(ARCHIVES["seed"]), "--index-dir", str(work / backend / "export")], backend)
                print(f"{backend}: first build with the export {time.perf_counter() - started:.0f} s", flush=True)
            for name, archive in ARCHIVES.items():
                if backend != "torch":
                    shutil.copytree(work / backend / "export" / ".models", work / backend / name / ".models")
                started = time.perf_counter()
                out = newsdesk(["index", "rebuild", str(archive), "--index-dir", str(work / backend / name)], backend)
                took = time.perf_counter() - started
                found = re.search(r"Indexed \d+ articles \((\d+) chunks\)", out)
                chunks += int(found.group(1)) if found else 0
                seconds += took
            builds[backend] = (chunks, seconds)
            print(f"{backend}: {chunks} chunks built in {seconds:.0f} s ({chunks / seconds:.1f} chunks/s, whole process)", flush=True)
            for set_name, (path, archive_name) in SETS.items():
                report = work / backend / "reports" / set_name
                newsdesk(["eval", str(path), "--index-dir", str(work / backend / archive_name), "--out", str(report)], backend)
                overall = json.loads((report / "report.json").read_text(encoding="utf-8"))["metrics"]["overall"]
                metrics[backend, set_name] = overall
                print(f"  {set_name}: Hit@1 {overall['hit@1']:.3f} MRR@10 {overall['mrr@10']:.3f} "
                      f"evidence recall {overall['evidence_recall']:.3f} p50 {overall['latency_p50']:.3f} s", flush=True)
        print_table(builds, metrics)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def print_table(builds: dict[str, tuple[int, float]], metrics: dict[tuple[str, str], dict[str, float]]) -> None:
    print("\n| backend | rebuild chunks/s | " + " | ".join(f"{s} Hit@1 / MRR@10 / recall" for s in SETS) + " | p50 s (horne_dev) | qualifies |")
    print("|---|---|" + "---|" * len(SETS) + "---|---|")
    for backend in BACKENDS:
        chunks, seconds = builds[backend]
        cells = [f"{m['hit@1']:.3f} / {m['mrr@10']:.3f} / {m['evidence_recall']:.3f}"
                 for m in (metrics[backend, s] for s in SETS)]
        ok = all(metrics[backend, s]["mrr@10"] >= metrics["torch", s]["mrr@10"] - MAX_MRR_LOSS for s in SETS)
        print(f"| {backend} | {chunks / seconds:.1f} | " + " | ".join(cells)
              + f" | {metrics[backend, 'horne_dev']['latency_p50']:.3f} | {'yes' if ok else 'no'} |")


if __name__ == "__main__":
    main()
