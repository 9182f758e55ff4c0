"""Does the evidence answer the question? A small logistic model over signals of the evidence.

The signals are stated in terms of kinds of answers and the question's structure, never in the
words of particular questions:

- how well the best sentences match the question (the evidence score, its meaning and word parts,
  its lead over the best sentence of any other story);
- whether a best sentence holds an answer of the kind asked (a person, place, date, number,
  amount, share, reason) that is not already in the question;
- whether the best sentence and its article state the question's distinctive constraints (a year,
  a period, a named office, a stage such as "final", the names it holds);
- whether the dense and BM25 lists agree on the best story;
- how much of the question's rarer wording the best sentence, its context and its article hold,
  and how rare the rarest question word its article lacks is;
- whether the top stories mention the names the question holds, and hold the kind of figure asked.

The weights live in ``answerability.json`` beside this module. They are fitted by
``evals/train_answerability.py`` on one half of the dev question sets (the threshold too), and
that script rebuilds the file exactly from the committed feature table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from .lexical import terms
from .question import missing_names, wanted_figure
from .records import Evidence, Hit
from .spans import answer_span, asked_kind, constraints, covered

TOP_SENTENCES = 3  # best sentences searched for an answer of the asked kind
NAME_STORIES = 3  # stories whose articles must mention the question's names

FEATURES = (
    "confidence",  # best evidence score against the whole searched query
    "lead_score",  # score of the best evidence sentence
    "lead_margin",  # its lead over the best sentence of any other story
    "kind_asked",  # the question asks for a kind of answer (who, where, when, how many, …)
    "span_in_lead",  # … and the best sentence holds one that the question does not
    "span_in_top",  # … or one of the best few sentences does
    "constraints_in_lead",  # share of the question's constraints the best sentence states
    "constraints_in_article",  # share its article states
    "names_missing",  # names of the question no top story mentions (0–3)
    "figure_missing",  # the question asks for a number, share, price or date none of the best sentences has
    "top_rank_agreement",  # the best story is first in the dense or BM25 list
    "lead_coverage",  # rarity-weighted share of the question's words in the best sentence
    "window_coverage",  # … in the best sentence and the text around it
    "article_coverage",  # … in its article
    "rarest_missing",  # rarity of the rarest question word its article lacks, over the rarest question word's
)
WINDOW = 300  # characters either side of the best sentence read as its context


@dataclass(frozen=True)
class Signals:
    """The signals for one question, in ``FEATURES`` order, and what the reader is told about them."""

    values: tuple[float, ...]
    kind: str | None  # the kind of answer asked for
    uncovered: tuple[str, ...]  # constraints of the question no best sentence or article states
    unnamed: tuple[str, ...]  # names of the question no top story mentions
    figure: str | None  # the kind of figure asked for and missing, if any



def signals(
    question: str, evidence: tuple[Evidence, ...], hits: tuple[Hit, ...], confidence: float,
    idf: Callable[[str], float] | None = None,
) -> Signals:
    """The signals of ``evidence`` (best first) and ``hits`` (story order) for ``question``;
    ``idf`` weighs words by rarity (the index's BM25 idf; every word alike without it)."""
    if not evidence:
        return Signals((0.0,) * len(FEATURES), asked_kind(question), (), (), None)
    lead = evidence[0]
    other = next((ev.score for ev in evidence if ev.article_id != lead.article_id), 0.0)
    kind = asked_kind(question)
    top = evidence[:TOP_SENTENCES]
    span_lead = kind is not None and answer_span(question, lead.text) is not None
    span_top = kind is not None and any(answer_span(question, ev.text) is not None for ev in top)
    wanted = constraints(question)
    article = next((h.article for h in hits if h.article.id == lead.article_id), None)
    # the lead sentence's article and the text around the sentence (the sentence alone without its article)
    body = f"{article.title}\n{article.publisher or ''}\n{article.body}" if article is not None else lead.text
    window = article.body[max(0, lead.start - WINDOW) : lead.end + WINDOW] if article is not None else lead.text
    in_lead = [c for c in wanted if covered(c, lead.text)]
    in_article = [c for c in wanted if covered(c, body)]
    uncovered = tuple(c.text for c in wanted if c not in in_article and not any(covered(c, ev.text) for ev in top))
    unnamed = tuple(missing_names(question, hits[:NAME_STORIES]))
    figure = wanted_figure(question)
    figure_missing = figure is not None and not any(figure.search(ev.text) for ev in top)
    weights = _rarity(question, idf)
    values = (
        confidence,
        lead.score,
        lead.score - other,
        float(kind is not None),
        float(span_lead),
        float(span_top),
        len(in_lead) / len(wanted) if wanted else 1.0,
        len(in_article) / len(wanted) if wanted else 1.0,
        float(min(len(unnamed), 3)),
        float(figure_missing),
        float(bool(hits) and (hits[0].dense_rank == 1 or hits[0].sparse_rank == 1)),
        _coverage(weights, lead.text),
        _coverage(weights, window),
        _coverage(weights, body),
        _rarest_missing(weights, body),
    )
    return Signals(values, kind, uncovered, unnamed, figure.name if figure_missing and figure else None)


def _rarity(question: str, idf: Callable[[str], float] | None) -> dict[str, float]:
    """The question's words with their weights: the index's idf, a word it never saw the rarest."""
    words = set(terms(question))
    if idf is None:
        return dict.fromkeys(words, 1.0)
    known = {t: idf(t) for t in words}
    rarest = max(known.values(), default=1.0) or 1.0
    return {t: (v if v > 0 else rarest) for t, v in known.items()}


def _coverage(weights: dict[str, float], text: str) -> float:
    total = sum(weights.values())
    present = set(terms(text))
    return sum(w for t, w in weights.items() if t in present) / total if total else 1.0


def _rarest_missing(weights: dict[str, float], text: str) -> float:
    if not weights:
        return 0.0
    present = set(terms(text))
    missing = [w for t, w in weights.items() if t not in present]
    return max(missing, default=0.0) / max(weights.values())


@dataclass(frozen=True)
class Model:
    """Logistic regression on standardised signals (``features``, a subset of ``FEATURES``);
    ``threshold`` is the probability at or above which the evidence is taken to answer."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float = 0.5

    def probability(self, values: Mapping[str, float] | Sequence[float]) -> float:
        """The probability that the evidence answers, from all signals (by name, or in ``FEATURES`` order)."""
        named = values if isinstance(values, Mapping) else dict(zip(FEATURES, values, strict=True))
        z = self.bias + sum(
            w * (named[f] - m) / s for f, w, m, s in zip(self.features, self.weights, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(self.features), "weights": [round(w, 6) for w in self.weights], "bias": round(self.bias, 6),
            "mean": [round(m, 6) for m in self.mean], "scale": [round(s, 6) for s in self.scale],
            "threshold": round(self.threshold, 6),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Model:
        features = tuple(str(f) for f in data["features"])
        if unknown := set(features) - set(FEATURES):
            raise ValueError(f"the answerability weights use signals this code does not compute: {sorted(unknown)}")

        def floats(key: str) -> tuple[float, ...]:
            return tuple(float(x) for x in data[key])

        return cls(features, floats("weights"), float(data["bias"]), floats("mean"), floats("scale"), float(data["threshold"]))


@lru_cache(maxsize=1)
def shipped_model() -> Model:
    """The weights shipped beside this module."""
    text = resources.files("assistant").joinpath("answerability.json").read_text(encoding="utf-8")
    return Model.from_json(json.loads(text))


def fit(
    rows: np.ndarray, labels: np.ndarray, features: Sequence[str] = FEATURES, l2: float = 1.0, iterations: int = 50
) -> Model:
    """Logistic regression by Newton's method with an L2 penalty (the bias unpenalised).

    Written here rather than taken from a library: a dozen lines of numpy, exactly reproducible,
    and it spares the product a machine-learning dependency for one small fit."""
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale < 1e-9] = 1.0
    x = np.hstack([np.ones((len(rows), 1)), (rows - mean) / scale])
    w = np.zeros(x.shape[1])
    penalty = np.eye(x.shape[1]) * l2
    penalty[0, 0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -50, 50)))
        gradient = x.T @ (p - labels) + penalty @ w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-10:
            break
    return Model(
        tuple(features), tuple(float(v) for v in w[1:]), float(w[0]), tuple(float(v) for v in mean), tuple(float(v) for v in scale)
    )
