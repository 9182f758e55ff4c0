"""Answer metrics of `newsdesk eval` reports by half (A: where thresholds and weights are chosen;
B: only reported) and in full, pooled over several reports, before and after a change.

    .venv/bin/python evals/halves.py AFTER/*/report.json [--before BEFORE/*/report.json]

Each report is one question set run in full; the half of a question is ``questionsets.half_of``
of its id, so any report (also of an earlier version) splits the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.questionsets import half_of  # noqa: E402

METRICS = (
    ("hit@1", "article Hit@1"),
    ("citation_precision", "citation precision"),
    ("evidence_recall", "evidence recall"),
    ("answer_contained", "short answer contained"),
    ("abstention", "abstention on nulls"),
    ("false_abstention", "false abstention"),
    ("quotes", "quotes per answer"),
    ("stories", "stories cited per answer"),
)


def rows(paths: list[Path]) -> list[tuple[str, dict[str, float | None]]]:
    out = []
    for path in paths:
        report = json.loads(path.read_text(encoding="utf-8"))
        for item in report["questions"]:
            metrics = dict(item["metrics"])
            answer = item["answer"]
            if not answer["abstained"]:
                metrics["quotes"] = float(len(answer["quotes"]))
                metrics["stories"] = float(len(answer["sources"]))
            out.append((half_of(item["question"]["id"]), metrics))
    return out


def mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def table(after: list[Path], before: list[Path]) -> str:
    groups = {"half A": "A", "half B": "B", "full": None}
    sets = [("after", rows(after))] + ([("before", rows(before))] if before else [])
    header = "| metric | " + " | ".join(f"{g} {name}" for g in groups for name, _ in sets) + " |"
    lines = [header, "|---" * (1 + len(groups) * len(sets)) + "|"]
    counts = []
    for half in groups.values():
        for _, data in sets:
            counts.append(str(sum(1 for h, _ in data if half is None or h == half)))
    lines.append("| questions | " + " | ".join(counts) + " |")
    for key, label in METRICS:
        cells = []
        for _, half in groups.items():
            for _, data in sets:
                v = mean([m.get(key) for h, m in data if half is None or h == half])
                cells.append("–" if v is None else f"{v:.3f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", nargs="+", type=Path)
    parser.add_argument("--before", nargs="*", type=Path, default=[])
    args = parser.parse_args()
    print(table(args.reports, args.before))


if __name__ == "__main__":
    main()
