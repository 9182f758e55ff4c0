"""What the answer reader (train_reader.py) adds, judged on the dev question sets by half (A chooses, B reports).

    .venv/bin/python evals/study_reader.py [--reader PATH] [--cache PATH]

Searches every dev question as ``newsdesk ask`` does (on the indexes ``train_answerability.py
--collect`` builds under ``index/.train``), keeps the best evidence sentences (cached in
``--cache``), scores them with the reader and reports, per half:

- the AUC (answerable vs null) of the reader's score of the best sentence and of the best few;
- the AUC of the shipped model's score and of a logistic model over it and the reader's scores,
  fitted on half A; nulls abstained on half B at the threshold that answers 95% of half A;
- how often a gold sentence comes first, by the search's order and reordered by the reader.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for key, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("ANONYMIZED_TELEMETRY", "False")):
    os.environ.setdefault(key, value)

import numpy as np  # noqa: E402

from assistant.questionsets import half_of  # noqa: E402

TOP = 10


def gather(index_root: Path, cache: Path) -> list[dict]:
    from train_answerability import SETS, open_desks

    from assistant.answerability import shipped_model, signals

    desks = open_desks(index_root)
    model = shipped_model()
    out = []
    for path, archive in SETS.items():
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            q = json.loads(line)
            r = desks[archive].search(q["question"], q.get("history", [])).retrieval
            s = signals(r.query, r.evidence, r.hits, r.confidence, desks[archive].index.idf)
            out.append({
                "id": q["id"], "set": path.name, "half": half_of(q["id"]), "answerable": int(q["type"] != "null"),
                "question": q["question"], "query": r.query, "gold": q.get("evidence", []),
                "model": model.probability(s.values),
                "evidence": [{"article_id": e.article_id, "text": e.text, "score": e.score} for e in r.evidence[:TOP]],
            })
    cache.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    return out


def is_gold(ev: dict, gold: list[dict]) -> bool:
    t = " ".join(ev["text"].split()).lower()
    for g in gold:
        quote = " ".join(g["quote"].split()).lower()
        if g["article_id"] == ev["article_id"] and (quote in t or t in quote):
            return True
    return False


def auc(pos: list[float], neg: list[float]) -> float:
    p, n = np.array(pos)[:, None], np.array(neg)[None, :]
    return float(((p > n) + 0.5 * (p == n)).mean()) if len(pos) and len(neg) else float("nan")


def main() -> None:
    sys.path.insert(0, str(ROOT / "evals"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-root", type=Path, default=ROOT / "index" / ".train")
    parser.add_argument("--cache", type=Path, default=ROOT / "index" / ".train" / "reader_study.json")
    parser.add_argument("--reader", type=Path, default=ROOT / "index" / ".train" / "reader.onnx")
    parser.add_argument("--top", type=int, default=3)
    args = parser.parse_args()
    rows = json.loads(args.cache.read_text(encoding="utf-8")) if args.cache.is_file() else gather(args.index_root, args.cache)
    from reader_model import Reader

    from assistant.answerability import fit

    reader = Reader(args.reader, threads=2)
    for r in rows:
        texts = [e["text"] for e in r["evidence"]]
        r["reader"] = reader.scores(r["query"] or r["question"], texts).tolist() if texts else []
    feats = ("model", "reader_lead", "reader_top", "reader_top_x_score")
    for r in rows:
        rs = r["reader"] or [0.0]
        sc = [e["score"] for e in r["evidence"]] or [0.0]
        r["reader_lead"] = rs[0]
        r["reader_top"] = max(rs[: args.top])
        r["reader_top_x_score"] = max(a * b for a, b in zip(rs[: args.top], sc[: args.top], strict=False))
    print("| signal | AUC half A | AUC half B |")
    print("|---|---|---|")
    for f in feats:
        cells = [auc([r[f] for r in rows if r["half"] == h and r["answerable"]],
                     [r[f] for r in rows if r["half"] == h and not r["answerable"]]) for h in "AB"]
        print(f"| {f} | {cells[0]:.3f} | {cells[1]:.3f} |")
    a = [r for r in rows if r["half"] == "A"]
    for chosen in (("model",), ("model", "reader_lead"), ("model", "reader_top"), ("model", "reader_lead", "reader_top")):
        x = np.array([[r[f] for f in chosen] for r in a])
        y = np.array([r["answerable"] for r in a], dtype=float)
        m = fit(x, y, chosen)
        prob = {r["id"]: m.probability(dict(zip(chosen, [r[f] for f in chosen], strict=True))) for r in rows}
        answerable = sorted(prob[r["id"]] for r in a if r["answerable"])
        threshold = answerable[int(np.floor(0.05 * len(answerable)))] - 1e-6
        cells = []
        for h in "AB":
            part = [r for r in rows if r["half"] == h]
            pos = [prob[r["id"]] for r in part if r["answerable"]]
            neg = [prob[r["id"]] for r in part if not r["answerable"]]
            cells.append(f"AUC {auc(pos, neg):.3f}, nulls {np.mean([p < threshold for p in neg]):.3f}, "
                         f"false {np.mean([p < threshold for p in pos]):.3f}")
        print(f"{'+'.join(chosen)}: A {cells[0]} | B {cells[1]}  weights {[round(w, 2) for w in m.weights]}")
    for h in "AB":
        part = [r for r in rows if r["half"] == h and r["answerable"] and r["evidence"]]
        first = np.mean([is_gold(r["evidence"][0], r["gold"]) for r in part])
        best = []
        for r in part:
            k = int(np.argmax([s + 0.0 * i for i, s in enumerate(r["reader"][: args.top])]))
            best.append(is_gold(r["evidence"][k], r["gold"]))
        blend = []
        for r in part:
            sc = [e["score"] for e in r["evidence"]][: args.top]
            k = int(np.argmax([s * p for s, p in zip(sc, r["reader"][: args.top], strict=False)]))
            blend.append(is_gold(r["evidence"][k], r["gold"]))
        print(f"half {h}: gold first by search {first:.3f}, by reader among top {args.top} {np.mean(best):.3f}, "
              f"by score×reader {np.mean(blend):.3f} ({len(part)} answerable)")


if __name__ == "__main__":
    main()
