"""Start-up: whole-process wall time of `newsdesk ask` (one question), `newsdesk index status` and
`newsdesk serve` (until the page answers), on a fresh index of the seed page. With ``--before DIR``
(another checkout of newsdesk, e.g. ``git worktree add /tmp/before <commit>``) both are measured,
alternating run by run so that other load falls on both alike. Why a process is slow:
``python -X importtime -m assistant.cli ask …``.

Usage: .venv/bin/python benchmarks/startup.py [--before DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED_PAGE = REPO / "seeds" / "000_1188ee5dcc83ef1c.txt"
QUESTION = "How many civilians are trapped in eastern Aleppo?"


def env_for(checkout: Path, index_dir: Path, port: int = 0) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False", GRADIO_ANALYTICS_ENABLED="False",
               PYTHONPATH=str(checkout), NEWSDESK_INDEX_DIR=str(index_dir), NEWSDESK_PORT=str(port))
    return env


def timed(args: list[str], checkout: Path, index_dir: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=checkout, env=env_for(checkout, index_dir),
                   capture_output=True, check=True)
    return time.perf_counter() - started


def serve_time(checkout: Path, index_dir: Path) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve"], cwd=checkout,
                            env=env_for(checkout, index_dir, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
                return time.perf_counter() - started
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(f"serve exited ({checkout})") from None
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="another checkout to measure alongside this one")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    checkouts = {"this": REPO, **({"before": args.before.resolve()} if args.before else {})}
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, checkout in checkouts.items():
            timed(["index", "rebuild", str(SEED_PAGE)], checkout, Path(tmp) / name)
        for _ in range(args.repeat):
            for name, checkout in checkouts.items():
                index_dir = Path(tmp) / name
                times.setdefault((name, "ask"), []).append(timed(["ask", QUESTION], checkout, index_dir))
                times.setdefault((name, "index status"), []).append(timed(["index", "status"], checkout, index_dir))
                times.setdefault((name, "serve"), []).append(serve_time(checkout, index_dir))
    print("| command | " + " | ".join(f"{n} (median of {args.repeat}, s)" for n in checkouts) + " |")
    print("|---|" + "---|" * len(checkouts))
    for command in ("ask", "index status", "serve"):
        print(f"| {command} | " + " | ".join(f"{statistics.median(times[n, command]):.2f}" for n in checkouts) + " |")


if __name__ == "__main__":
    main()
