"""Peak memory of a rebuild against archive size: it must stay bounded as the archive grows.

The Horne archive is replicated 1×, 2×, 4×, 8× (each copy an "edition" with its own ids and a
changed first line, so every copy is indexed; copies of a story are grouped as syndicated). For
each size a fresh process loads the encoder, resets its peak-RSS mark (``/proc/self/clear_refs``)
and runs ``rebuild``; the table shows the peak above the loaded-encoder baseline, per size, for

- the embedded store (Chroma's HNSW index lives in this process and grows with the vectors),
- a Chroma server (``chroma run`` on localhost: the vectors live in the server process),
- a rebuild of the unchanged archive over its own index (vectors reused, nothing encoded),

and, with ``--before REV``, the same two builds run by the code of an earlier revision
(a ``git worktree``), side by side. Peaks include file pages the process has mapped.

Usage: .venv/bin/python benchmarks/rebuild_memory.py [--sizes 1 2 4 8] [--backend onnx-int8] [--before REV]

The encoder backend does not change what grows; ``onnx-int8`` (the fastest) keeps the run short.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HORNE = REPO / "tests" / "data" / "horne2017" / "articles.jsonl"

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # MiB

from assistant.config import Settings
from assistant.embedding import make_embedder
from assistant.indexing import rebuild

archive, index_dir, host, port, backend, runs = sys.argv[1:7]
overrides = {"index_dir": Path(index_dir), "embed_backend": backend}
if host:
    overrides.update(chroma_host=host, chroma_port=int(port))
settings = Settings.from_env(**overrides)
embedder = make_embedder(settings)
embedder.embed_query("warm up the encoder")
out = []
for _ in range(int(runs)):
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the peak (VmHWM) to the current RSS
    base = rss("VmRSS")
    t = time.perf_counter()
    report = rebuild([Path(archive)], settings, embedder=embedder)
    out.append({"baseline": base, "peak": rss("VmHWM"), "seconds": time.perf_counter() - t,
                "chunks": report.chunks, "articles": report.articles, "embedded": report.embedded})
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--server-sizes", type=int, nargs="*", default=[1, 8])
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--before", default="", help="also run the first build with the code of this git revision")
    args = parser.parse_args()
    if not HORNE.exists():
        print(f"skipped: {HORNE} is absent")
        return
    rows: list[tuple[str, int, dict]] = []  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        archives = {k: replicate(HORNE, tmp / f"horne-x{k}.jsonl", k) for k in sorted(set(args.sizes) | set(args.server_sizes))}
        before = checkout(args.before, tmp / "before") if args.before else None
        for k in args.sizes:
            first, again = child(archives[k], tmp / f"index-x{k}", args.backend, runs=2)
            rows.append(("embedded store, first build", k, first))
            rows.append(("embedded store, unchanged rebuild", k, again))
            if before is not None:
                old_first, old_again = child(archives[k], tmp / f"before-x{k}", args.backend, runs=2, code=before)
                rows.append((f"embedded store, first build ({args.before})", k, old_first))
                rows.append((f"embedded store, unchanged rebuild ({args.before})", k, old_again))
        if args.server_sizes:
            sys.path.insert(0, str(REPO / "benchmarks"))
            from query_latency import start_chroma

            server, port = start_chroma(tmp / "chroma-server")
            try:
                for k in args.server_sizes:
                    first, again = child(archives[k], tmp / f"server-x{k}", args.backend, runs=2, host="127.0.0.1", port=port)
                    rows.append(("Chroma server, first build", k, first))
                    rows.append(("Chroma server, unchanged rebuild", k, again))
            finally:
                server.terminate()
                server.wait(timeout=30)
        if before is not None:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(before)], check=False)
    rows.sort(key=lambda r: (r[0], r[1]))
    print(f"\n{'rebuild':<46}{'size':>5}{'chunks':>8}{'encoded':>9}{'seconds':>9}{'base MiB':>10}{'peak MiB':>10}{'+MiB':>8}{'vs 1x':>7}")
    first_of: dict[str, float] = {}
    for name, k, r in rows:
        extra = r["peak"] - r["baseline"]
        first_of.setdefault(name, extra)
        print(f"{name:<46}{k:>4}x{r['chunks']:>8}{r['embedded']:>9}{r['seconds']:>9.1f}{r['baseline']:>10.0f}{r['peak']:>10.0f}"
              f"{extra:>8.0f}{extra / max(first_of[name], 1.0):>7.2f}")


def replicate(source: Path, target: Path, copies: int) -> Path:
    """``copies`` editions of every article, each with its own id and a changed first line."""
    records = [json.loads(line) for line in source.open(encoding="utf-8") if line.strip()]
    with target.open("w", encoding="utf-8") as out:
        for k in range(copies):
            for r in records:
                edition = dict(r)
                if k:
                    edition["id"] = f"{r.get('id', r.get('url', ''))}~e{k}"
                    for field in ("url", "link"):
                        if edition.get(field):
                            edition[field] = f"{edition[field]}#edition-{k}"
                    for field in ("body", "text", "content"):
                        if isinstance(edition.get(field), str):
                            edition[field] = f"Edition {k}. " + edition[field]
                out.write(json.dumps(edition, ensure_ascii=False) + "\n")
    return target


def checkout(revision: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(where), revision], check=True, capture_output=True)
    return where


def child(archive: Path, index_dir: Path, backend: str, runs: int = 1, host: str = "", port: int = 0,
          code: Path | None = None) -> list[dict]:  # type: ignore[type-arg]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(archive), str(index_dir), host, str(port), backend, str(runs)],
        env=env, cwd=str(code or REPO), capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rebuild of {archive.name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


if __name__ == "__main__":
    main()
