"""Candidate answerability signals, each judged on both halves of the dev sets before any enters the model.

    .venv/bin/python evals/study_signals.py            # needs the indexes of train_answerability.py --collect

For every dev question (searched exactly as ``newsdesk ask`` does, on the ``index/.train`` indexes
that ``train_answerability.py --collect`` builds) it computes the shipped signals and three
candidates, then prints each one's area under the ROC curve (answerable vs null) on half A, on
half B and on the near-miss sets' half B, and logistic models fitted on half A with their
operating point on half B:

- ``span_anchor``: how strongly the question's words surround an answer of the asked kind in the
  lead sentence (``spans.answer_span``'s closeness score of its best candidate, per question
  term; -1 for an open question) — the answer span tied to the question's subject, not just present;
- ``soft_coverage``: rarity-weighted share of the question's words matched by meaning in the lead
  sentence and the text around it (each question word's best cosine to any word there, from the
  encoder's contextual token vectors) — lexical coverage that paraphrase does not defeat;
- ``soft_rarest``: the weakest such match among the rarer half of the question's words — the
  question's distinctive condition (an office, a year, a place) missing in meaning, not only in spelling.

Nothing here changes the product; it records why a signal was or was not taken.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "evals"))
for key, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("ANONYMIZED_TELEMETRY", "False")):
    os.environ.setdefault(key, value)

import numpy as np  # noqa: E402
import train_answerability as training  # noqa: E402

from assistant.answerability import FEATURES, WINDOW, fit, signals  # noqa: E402
from assistant.lexical import terms  # noqa: E402
from assistant.mentions import find_spans, hints, stem  # noqa: E402
from assistant.questionsets import half_of  # noqa: E402
from assistant.spans import _SECOND_CHOICE, TIER_WEIGHTS, _closeness, _parse, _stated, _tier  # noqa: E402

CANDIDATES = ("span_anchor", "soft_coverage", "soft_rarest")
_WORD = re.compile(r"\w[\w'’-]*\w|\w")


def span_anchor(question: str, sentence: str) -> float:
    """The closeness score ``answer_span`` gives its best candidate, per question term (-1: open question)."""
    q = _parse(question)
    if q.kind is None:
        return -1.0
    candidates = set(find_spans(sentence, q.kind))
    if q.kind in _SECOND_CHOICE:
        candidates.update(find_spans(sentence, _SECOND_CHOICE[q.kind]))
    h = hints(sentence)
    shared = frozenset(w for w in h.vocabulary if w[:3] in q.prefixes and stem(w) in q.stems)
    anchors = [(a, b, stem(w) or "") for a, b, w in h.positions(shared)]
    best = 0.0
    for span in candidates:
        tier = _tier(span, q.kind, sentence)
        if tier is not None and not _stated(span, q):
            best = max(best, _closeness(span, anchors) * TIER_WEIGHTS[tier])
    return best / max(1, len(q.stems))


def soft_match(embedder, question: str, text: str, idf) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(rarity-weighted mean, weakest of the rarer half) of each question word's best cosine to a word of ``text``."""
    qwords = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(question) if terms(m.group())]
    twords = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if not qwords or not twords:
        return 1.0, 1.0
    _, qv = embedder.embed_with_spans([question], [[(a, b) for a, b, _ in qwords]])
    _, tv = embedder.embed_with_spans([text], [twords])
    best = (qv[0] @ tv[0].T).max(axis=1)
    weights = np.array([max(idf(terms(w)[0]), 0.1) for _, _, w in qwords])
    rarer = np.argsort(-weights)[: max(1, len(weights) // 2)]
    return float((best * weights).sum() / weights.sum()), float(best[rarer].min())


def collect(index_root: Path) -> list[dict[str, object]]:
    from assistant.chat import Newsdesk
    from assistant.config import Settings
    from assistant.embedding import make_embedder

    embedder = make_embedder(Settings())
    desks = {}
    for name in training.ARCHIVES:
        settings = Settings(index_dir=index_root / name)
        if not (settings.index_dir / "LIVE").is_file():
            raise SystemExit(f"no index in {settings.index_dir}: run evals/train_answerability.py --collect first")
        desks[name] = Newsdesk(settings, embedder, writer=None)
    rows: list[dict[str, object]] = []
    for path, archive in training.SETS.items():
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            q = json.loads(line)
            desk = desks[archive]
            r = desk.search(q["question"], q.get("history", [])).retrieval
            shipped = signals(r.query, r.evidence, r.hits, r.confidence, desk.index.idf)
            extra = {"span_anchor": -1.0, "soft_coverage": 0.0, "soft_rarest": 0.0}
            if r.evidence:
                lead = r.evidence[0]
                article = next((h.article for h in r.hits if h.article.id == lead.article_id), None)
                window = article.body[max(0, lead.start - WINDOW) : lead.end + WINDOW] if article else lead.text
                coverage, rarest = soft_match(embedder, r.query, window, desk.index.idf)
                extra = {"span_anchor": span_anchor(r.query, lead.text), "soft_coverage": coverage, "soft_rarest": rarest}
            rows.append({"id": q["id"], "set": path.name, "half": half_of(q["id"]), "answerable": int(q["type"] != "null"),
                         **dict(zip(FEATURES, shipped.values, strict=True)), **extra})
    return rows


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    return float(((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean())


def main() -> None:
    rows = collect(ROOT / "index" / ".train")
    y = np.array([r["answerable"] for r in rows])
    half = np.array([r["half"] for r in rows])
    near = np.array([str(r["set"]).startswith("nearmiss") for r in rows])
    a, b = half == "A", half == "B"
    print("| signal | AUC half A | AUC half B | AUC near-miss half B |\n|---|---|---|---|")
    for name in (*FEATURES, *CANDIDATES):
        s = np.array([float(r[name]) for r in rows])  # type: ignore[arg-type]
        print(f"| {name} | {auc(s[a], y[a]):.3f} | {auc(s[b], y[b]):.3f} | {auc(s[b & near], y[b & near]):.3f} |")
    shipped = json.loads((ROOT / "assistant" / "answerability.json").read_text(encoding="utf-8"))["features"]
    print("\n| model fitted on half A | AUC A | AUC B | half B at 95% of half A answered: false abstention / nulls abstained |")
    print("|---|---|---|---|")
    for columns in ([*shipped], ["confidence"], ["confidence", "span_anchor"], ["confidence", "span_anchor", "kind_asked"],
                    [*shipped, "span_anchor"], [*shipped, "span_anchor", "soft_coverage", "soft_rarest"]):
        x = np.array([[max(float(r[c]), 0.0) if c == "span_anchor" else float(r[c]) for c in columns] for r in rows])  # type: ignore[arg-type]
        model = fit(x[a], y[a].astype(float), columns)
        z = model.bias + ((x - np.array(model.mean)) / np.array(model.scale)) @ np.array(model.weights)
        answered_a = np.sort(z[a & (y == 1)])
        threshold = answered_a[int(np.floor(0.05 * len(answered_a)))]
        false_abstention = float((z[b & (y == 1)] < threshold).mean())
        abstained = float((z[b & (y == 0)] < threshold).mean())
        print(f"| {' + '.join(columns)} | {auc(z[a], y[a]):.3f} | {auc(z[b], y[b]):.3f} | {false_abstention:.3f} / {abstained:.3f} |")


if __name__ == "__main__":
    main()
