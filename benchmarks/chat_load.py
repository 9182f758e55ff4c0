"""Chat under load: N sessions at once through the real app (Gradio server, queue, ``/ask`` API),
each asking a question and then a follow-up that leans on its own history.

Reports per-answer latency (p50, p95, max) and throughput for 1 session alone and for N at once,
side by side in one run, and checks that every answer arrived and none crossed sessions.

Usage: .venv/bin/python benchmarks/chat_load.py [--sessions 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the towns archive and the in-process server of the UI tests

import ui_helpers as h  # noqa: E402


def run(url: str, sessions: int) -> tuple[list[float], float, int]:
    """Latencies of every answer, the wall time, and how many answers were wrong or lost."""
    from gradio_client import Client

    latencies: list[float] = []
    wrong: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(sessions)

    def session(n: int) -> None:
        i = n % len(h.TOWNS)
        client = Client(url + "/", verbose=False, analytics_enabled=False, download_files=False, httpx_kwargs={"timeout": 600})
        start.wait(timeout=300)
        first = f"Who was elected mayor of {h.TOWNS[i]}?"
        history: list[str] = []
        for question in (first, "What did they promise during the campaign?"):
            t0 = time.perf_counter()
            out = client.predict(question=question, history=history, publishers=[], since="", until="", api_name="/ask")
            took = time.perf_counter() - t0
            cited = {q["article_id"] for q in out["answer"]["quotes"]}
            with lock:
                latencies.append(took)
                if out["error"] is not None or cited != {f"town-{i:02d}"}:
                    wrong.append(n)
            history = [first]

    t0 = time.perf_counter()
    threads = [threading.Thread(target=session, args=(n,)) for n in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lost = 2 * sessions - len(latencies)
    return latencies, wall, len(wrong) + lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=50)
    args = parser.parse_args()
    from assistant.config import Settings
    from assistant.embedding import make_embedder

    embedder = make_embedder(Settings())
    with tempfile.TemporaryDirectory() as tmp:
        archive = h.towns_archive(Path(tmp) / "archive")
        settings = h.build_index([archive], Path(tmp) / "index", embedder)
        with h.served(settings, embedder) as app:
            run(app.url, 1)  # warm-up
            print("| sessions at once | answers | p50 s | p95 s | max s | answers/s | wrong or lost |")
            print("|---|---|---|---|---|---|---|")
            for n in (1, args.sessions):
                latencies, wall, bad = run(app.url, n)
                q = statistics.quantiles(latencies, n=20, method="inclusive") if len(latencies) > 1 else latencies * 19
                print(f"| {n} | {len(latencies)} | {statistics.median(latencies):.2f} | {q[18]:.2f} | {max(latencies):.2f} "
                      f"| {len(latencies) / wall:.1f} | {bad} |", flush=True)


if __name__ == "__main__":
    main()
