"""Fit the answerability model (assistant/answerability.json) on half A of the dev question sets.

    .venv/bin/python evals/train_answerability.py --collect   # index the three archives, compute the signals
    .venv/bin/python evals/train_answerability.py             # fit from the committed feature table

``--collect`` indexes the seed archive, the Horne 2017 archive and the FakeNewsCorpus sample (under
``index/.train/``, git-ignored), searches every dev question exactly as ``newsdesk ask`` does and
writes the signals to ``evals/answerability_features.csv``. Fitting reads only that table, so the
shipped weights are rebuilt exactly from committed data (a test checks it).

Every weight and the threshold are chosen on half A (a question's half is a hash of its id); half
B is only reported. The threshold is the highest probability at which the model still answers at
least ``--answer-rate`` of the answerable questions of half A.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for key, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("ANONYMIZED_TELEMETRY", "False")):
    os.environ.setdefault(key, value)

import numpy as np  # noqa: E402

from assistant.answerability import FEATURES, Model, fit  # noqa: E402
from assistant.questionsets import half_of  # noqa: E402

DATA = ROOT / "tests" / "data"
ARCHIVES = {
    "seed": ROOT / "seeds" / "000_1188ee5dcc83ef1c.txt",  # the seed page alone (seeds/ also holds the demo archive)
    "horne": DATA / "horne2017" / "articles.jsonl",
    "fnc": DATA / "fakenewscorpus-sample" / "news_sample.csv",
}
SETS = {  # question set → the archive it asks about
    ROOT / "seeds" / "questions.jsonl": "seed",
    ROOT / "evals" / "horne_dev.jsonl": "horne",
    ROOT / "evals" / "nearmiss_horne.jsonl": "horne",
    ROOT / "evals" / "nearmiss_fnc.jsonl": "fnc",
    ROOT / "evals" / "nearmiss_seed.jsonl": "seed",
}
TABLE = ROOT / "evals" / "answerability_features.csv"
WEIGHTS = ROOT / "assistant" / "answerability.json"
PLOT = ROOT / "evals" / "answerability.png"


@dataclass(frozen=True)
class Row:
    id: str
    set: str
    half: str
    answerable: int
    values: tuple[float, ...]


def open_desks(index_root: Path) -> dict:
    """Each archive's desk (offline answers), its index built under ``index_root`` the first time."""
    from assistant.chat import Newsdesk
    from assistant.config import Settings
    from assistant.embedding import make_embedder
    from assistant.indexing import rebuild

    embedder = make_embedder(Settings())
    desks = {}
    for name, path in ARCHIVES.items():
        settings = Settings(index_dir=index_root / name)
        if not (settings.index_dir / "LIVE").is_file():
            print(f"indexing {name} from {path.relative_to(ROOT)} …", flush=True)
            rebuild([path], settings, embedder=embedder)
        desks[name] = Newsdesk(settings, embedder, writer=None)
    return desks


def collect(index_root: Path, table: Path) -> None:
    """Index each archive once, search every dev question, write the signal table."""
    from assistant.answerability import signals

    desks = open_desks(index_root)
    rows: list[Row] = []
    for path, archive in SETS.items():
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            q = json.loads(line)
            found = desks[archive].search(q["question"], q.get("history", []))
            r = found.retrieval
            s = signals(r.query, r.evidence, r.hits, r.confidence, desks[archive].index.idf)
            rows.append(Row(q["id"], path.name, half_of(q["id"]), int(q["type"] != "null"), s.values))
    write_table(rows, table)
    print(f"wrote {len(rows)} rows to {table.relative_to(ROOT)}")


def write_table(rows: list[Row], table: Path) -> None:
    with table.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["id", "set", "half", "answerable", *FEATURES])
        for r in rows:
            out.writerow([r.id, r.set, r.half, r.answerable, *(f"{v:.6f}" for v in r.values)])


def read_table(table: Path) -> list[Row]:
    with table.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ())[4:] != FEATURES:
            raise SystemExit(f"{table}: its columns are not the current features; run with --collect")
        return [
            Row(d["id"], d["set"], d["half"], int(d["answerable"]), tuple(float(d[k]) for k in FEATURES)) for d in reader
        ]


def cv_auc(x: np.ndarray, y: np.ndarray, columns: list[int], l2: float, repeats: int = 4, folds: int = 5) -> float:
    """Mean area under the ROC curve of held-out folds of half A (fixed seeds: reproducible)."""
    aucs = []
    for seed in range(repeats):
        fold = np.random.default_rng(seed).permutation(len(y)) % folds
        scores = np.zeros(len(y))
        for k in range(folds):
            train = fold != k
            model = fit(x[train][:, columns], y[train], [FEATURES[c] for c in columns], l2=l2)
            scores[~train] = [model.probability(dict(zip(FEATURES, v, strict=True))) for v in x[~train]]
        pos, neg = scores[y == 1], scores[y == 0]
        aucs.append(float(((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean()))
    return float(np.mean(aucs))


def select(x: np.ndarray, y: np.ndarray, l2: float) -> list[int]:
    """Backward elimination on half A: drop the signal whose removal helps cross-validated AUC
    most, while that does not lose more than 0.002."""
    columns = list(range(len(FEATURES)))
    best = cv_auc(x, y, columns, l2)
    while len(columns) > 1:
        score, worst = max((cv_auc(x, y, [c for c in columns if c != d], l2), d) for d in columns)
        if score < best - 0.002:
            break
        best = max(best, score)
        columns.remove(worst)
        print(f"  without {FEATURES[worst]}: cross-validated AUC on half A {score:.3f}")
    return columns


def train(rows: list[Row], answer_rate: float, l2: float) -> Model:
    """Signals, weights and threshold, all chosen on half A alone."""
    a = [r for r in rows if r.half == "A"]
    x = np.array([r.values for r in a], dtype=float)
    y = np.array([r.answerable for r in a], dtype=float)
    columns = select(x, y, l2)
    model = fit(x[:, columns], y, [FEATURES[c] for c in columns], l2=l2)
    answerable = sorted(model.probability(r.values) for r in a if r.answerable)
    # the highest threshold that still answers ``answer_rate`` of half A's answerable questions
    k = int(np.floor((1.0 - answer_rate) * len(answerable)))
    threshold = answerable[k] - 1e-6 if answerable else 0.5
    return replace(model, threshold=round(threshold, 6))


def report(rows: list[Row], model: Model) -> str:
    lines = ["| rows | questions | answerable answered | nulls abstained |", "|---|---|---|---|"]
    for name, chosen in (("half A (fitted)", "A"), ("half B (held out)", "B"), ("both", None)):
        part = [r for r in rows if chosen is None or r.half == chosen]
        pos = [r for r in part if r.answerable]
        neg = [r for r in part if not r.answerable]
        answered = sum(model.probability(r.values) >= model.threshold for r in pos) / max(1, len(pos))
        abstained = sum(model.probability(r.values) < model.threshold for r in neg) / max(1, len(neg))
        lines.append(f"| {name} | {len(part)} ({len(pos)} answerable, {len(neg)} null) | {answered:.3f} | {abstained:.3f} |")
    return "\n".join(lines)


def plot(rows: list[Row], model: Model, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    bins = np.linspace(0, 1, 21)
    for ax, half in zip(axes, ("A", "B"), strict=True):
        part = [r for r in rows if r.half == half]
        for label, colour, name in ((1, "#2a7", "answerable"), (0, "#c43", "unanswerable")):
            ax.hist([model.probability(r.values) for r in part if r.answerable == label], bins=bins, alpha=0.6,
                    color=colour, label=name)
        ax.axvline(model.threshold, color="k", linestyle="--", linewidth=1, label="threshold")
        ax.set_title(f"half {half}" + (" (fitted)" if half == "A" else " (held out)"))
        ax.set_xlabel("answerability score")
    axes[0].set_ylabel("questions")
    axes[0].legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collect", action="store_true", help="recompute the signal table from the archives first")
    parser.add_argument("--index-root", type=Path, default=ROOT / "index" / ".train")
    parser.add_argument("--table", type=Path, default=TABLE)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--plot", default=str(PLOT), help="where to draw the score plot (empty: none)")
    parser.add_argument("--answer-rate", type=float, default=0.95, help="answerable questions of half A to answer")
    parser.add_argument("--l2", type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.collect:
        collect(args.index_root, args.table)
    rows = read_table(args.table)
    model = train(rows, args.answer_rate, args.l2)
    args.out.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    print(report(rows, model))
    for name, w in sorted(zip(model.features, model.weights, strict=True), key=lambda t: -abs(t[1])):
        print(f"  {name:24s} {w:+.3f}")
    if args.plot:
        plot(rows, model, Path(args.plot))
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
