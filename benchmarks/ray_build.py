"""Build throughput: a local build against builds on a local Ray cluster of 1 and 2 worker nodes, one run.

The cluster runs on this machine, on 127.0.0.1: a head with no CPUs of its own (it only coordinates) and
worker nodes of 1 CPU each, so one encoder actor per node, each encoding on one thread; the local build
encodes on every core (NEWSDESK_INDEX_THREADS=0). On one machine the ratio shows Ray's overhead, not a
speed-up: the workers share the same cores. Every build starts from an empty index directory (nothing
reused) with the configured encoder backend; times include connecting and starting the actors.

Also printed: each Ray build's encoder time per chunk on a worker (one thread), whether its generation is
the local one (same chunk ids and texts; largest vector difference), and, with --eval, the retrieval
metrics of `newsdesk eval` on evals/horne_dev.jsonl for the local and the 2-worker build side by side.

Usage: .venv/bin/python benchmarks/ray_build.py [--articles N] [--eval]
(the `ray` extra must be installed: pip install 'newsdesk[ray]')
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.embedding import Embedder

for _name, _value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
                      "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}.items():
    os.environ.setdefault(_name, _value)

REPO = Path(__file__).resolve().parent.parent
HORNE = REPO / "tests" / "data" / "horne2017" / "articles.jsonl"
DEV_SET = REPO / "evals" / "horne_dev.jsonl"
RAY = Path(sys.executable).parent / "ray"
sys.path.insert(0, str(REPO / "tests"))
from helpers import RAY_LOOPBACK_NODE, free_port  # noqa: E402 - the tests' loopback worker-node launcher


def node_options() -> list[str]:
    return ["--node-ip-address=127.0.0.1", f"--object-store-memory={256 * 2**20}",
            f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
            f"--metrics-export-port={free_port()}", f"--runtime-env-agent-port={free_port()}"]


class Cluster:
    """A head (no CPUs) and worker nodes of 1 CPU, each a process group of its own."""

    def __init__(self, temp: Path) -> None:
        self.temp = temp
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.groups: list[subprocess.Popen[bytes]] = []

    def _start(self, command: list[str], log: str) -> None:
        with (self.temp / log).open("ab") as out:
            self.groups.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True))

    def start_head(self) -> None:
        self._start([str(RAY), "start", "--block", "--head", f"--port={self.port}", "--num-cpus=0",
                     "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={self.temp}",
                     f"--ray-client-server-port={free_port()}", *node_options()], "head.log")
        self.wait_for_cpus(0)

    def add_worker(self) -> None:
        self._start([sys.executable, "-c", RAY_LOOPBACK_NODE, "start", "--block", f"--address={self.address}", "--num-cpus=1",
                     *node_options()], f"worker{len(self.groups)}.log")
        self.wait_for_cpus(len(self.groups) - 1)

    def wait_for_cpus(self, cpus: int) -> None:
        code = ("import ray, sys, time\nray.init(address=sys.argv[1], logging_level='ERROR')\n"
                "while int(ray.cluster_resources().get('CPU', 0)) != int(sys.argv[2]): time.sleep(0.5)\n")
        subprocess.run([sys.executable, "-c", code, self.address, str(cpus)], check=True, timeout=120,
                       capture_output=True)

    def stop(self) -> None:
        for proc in reversed(self.groups):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        time.sleep(4)
        for proc in reversed(self.groups):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=0, help="the first N Horne articles (0: all 326)")
    parser.add_argument("--eval", action="store_true", help="also compare retrieval metrics on evals/horne_dev.jsonl")
    args = parser.parse_args()

    import numpy as np

    from assistant.config import Settings
    from assistant.embedding import make_embedder
    from assistant.indexing import BuildReport, rebuild
    from assistant.store import open_index

    temp = Path(tempfile.mkdtemp(prefix="nd-raybench-"))
    cluster = Cluster(temp)
    try:
        archive = temp / "horne.jsonl"
        lines = HORNE.read_text(encoding="utf-8").splitlines()
        archive.write_text("\n".join(lines[: args.articles or None]) + "\n", encoding="utf-8")
        base = Settings.from_env(index_dir=temp / "local")
        embedder = make_embedder(base)
        embedder.embed_batch(["warm up"])  # an ONNX backend is exported once here, outside the timings
        print(f"archive: {archive.name}, {min(len(lines), args.articles or len(lines))} articles; "
              f"encoder {base.embed_backend}; load average {os.getloadavg()[0]:.1f}")

        def timed(settings: Settings) -> tuple[BuildReport, float]:
            if (temp / "local" / ".models").is_dir() and settings.index_dir != temp / "local":
                shutil.copytree(temp / "local" / ".models", settings.index_dir / ".models")
            started = time.perf_counter()
            report = rebuild([archive], settings, embedder=embedder)
            return report, time.perf_counter() - started

        def generation(index_dir: Path) -> tuple[list[str], list[str], np.ndarray]:
            index = open_index(index_dir, embedder)
            ids = [index.chunk_rows[i].id for i in range(len(index.chunk_rows))]
            return ids, [index.chunk(c).text for c in ids], index.vectors(ids)

        results: list[tuple[str, BuildReport, float]] = []
        report, seconds = timed(base)
        results.append(("local (this process, all cores)", report, seconds))
        local = generation(base.index_dir)
        cluster.start_head()
        for workers in (1, 2):
            cluster.add_worker()
            settings = replace(base, index_dir=temp / f"ray{workers}", ray_address=cluster.address, ray_encoders=0)
            report, seconds = timed(settings)
            results.append((f"Ray, {workers} worker node(s) of 1 CPU", report, seconds))
            ids, texts, vectors = generation(settings.index_dir)
            same = ids == local[0] and texts == local[1]
            print(f"  Ray {workers}: same chunk ids and texts as local: {same}; "
                  f"largest vector difference {float(np.abs(vectors - local[2]).max()):.2e}")
        print(f"\n{'build':38} {'chunks':>7} {'seconds':>8} {'chunks/s':>9} {'vs local':>9} {'encode ms/chunk':>16}")
        for name, report, seconds in results:
            rate = report.chunks / seconds
            per_chunk = 1000 * report.embed_seconds / max(report.embedded, 1)
            print(f"{name:38} {report.chunks:7d} {seconds:8.1f} {rate:9.1f} {rate / (results[0][1].chunks / results[0][2]):9.2f}"
                  f" {per_chunk:16.1f}")
        print("(encode ms/chunk: local = wall time of encoding on all cores; Ray = actor time summed over actors, one thread each)")
        if args.eval:
            compare_eval(base, replace(base, index_dir=temp / "ray2"), embedder, temp)
    finally:
        cluster.stop()
        shutil.rmtree(temp, ignore_errors=True)


def compare_eval(local: Settings, ray: Settings, embedder: Embedder, temp: Path) -> None:
    """`newsdesk eval` of the dev set on both indexes: every metric of every question type must be equal
    (latencies aside: they are times, not results)."""
    from assistant.evaluation import run_eval

    a, b = (run_eval(DEV_SET, s, k=10, out=temp / f"eval-{n}", embedder=embedder).metrics for n, s in (("l", local), ("r", ray)))
    overall = "all" if "all" in a else next(iter(a))
    print(f"\n{'metric (horne_dev, ' + overall + ')':40} {'local':>9} {'Ray, 2':>9}")
    for name, value in a[overall].items():
        other = b[overall].get(name)
        print(f"{name:40} {value if value is not None else float('nan'):9.4f} {other if other is not None else float('nan'):9.4f}")
    def results(metrics: dict[str, dict[str, float | None]]) -> dict[str, dict[str, float | None]]:
        return {kind: {k: v for k, v in m.items() if not k.startswith("latency")} for kind, m in metrics.items()}

    print("identical (every metric but latency, of every question type):", results(a) == results(b))


if __name__ == "__main__":
    main()
