"""Evaluation reports: ``report.json``, ``report.md``, ``report.png``, and the terminal tables
(summary, progress, side-by-side comparison of two runs).

Everything here reads the report as JSON data, so a report can be re-rendered or compared long
after the run that wrote it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .errors import BadInputError
from .evaluation import EvalRun

REPORT_JSON, REPORT_MD, REPORT_PNG = "report.json", "report.md", "report.png"
LOWER_IS_BETTER = ("false_abstention", "latency_p50", "latency_p95")
PLOTTED = ("hit@1", "hit@{k}", "mrr@{k}", "quote_hit@{k}", "citation_precision", "evidence_recall", "answer_contained", "abstention", "false_abstention")
LABELS = {
    "questions": "questions",
    "hit": "article Hit@{c}",
    "mrr": "MRR@{c}",
    "all_gold": "all gold in top {c}",
    "quote_hit": "quote Hit@{c}",
    "verification": "quote verification rate",
    "citation_precision": "citation precision",
    "evidence_recall": "evidence recall",
    "answer_contained": "short answer contained",
    "abstention": "abstention on null",
    "false_abstention": "false abstention",
    "latency_p50": "latency p50",
    "latency_p95": "latency p95",
}


@dataclass(frozen=True)
class ReportFiles:
    json: Path
    markdown: Path
    plot: Path


def write_report(run: EvalRun, out: Path) -> ReportFiles:
    """Write report.json, report.md and report.png into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    data = run.to_json()
    files = ReportFiles(out / REPORT_JSON, out / REPORT_MD, out / REPORT_PNG)
    files.json.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    files.markdown.write_text(render_markdown(data), encoding="utf-8")
    plot_report(data, files.plot)
    return files


def load_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read the evaluation report ({exc}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise BadInputError(f"{path}: not a newsdesk evaluation report (no metrics).")
    return data


# ---- formatting ---------------------------------------------------------------------------


def label(name: str) -> str:
    """"hit@5" → "article Hit@5"; names without a cutoff as in ``LABELS``."""
    base, _, cutoff = name.partition("@")
    return LABELS.get(base, name).format(c=cutoff)


def fmt(name: str, value: float | None) -> str:
    if value is None:
        return "–"
    if name == "questions":
        return str(int(value))
    if name.startswith("latency"):
        return f"{value * 1000:.0f} ms"
    return f"{value:.3f}"


def fmt_delta(name: str, a: float | None, b: float | None) -> str:
    """B − A, marked green when it is an improvement and red when it is a regression."""
    if a is None or b is None or name == "questions":
        return ""
    delta = b - a
    text = f"{delta * 1000:+.0f} ms" if name.startswith("latency") else f"{delta:+.3f}"
    if abs(delta) < 1e-9:
        return f"[dim]{text}[/]"
    better = (delta < 0) if name in LOWER_IS_BETTER else (delta > 0)
    return f"[green]{text}[/]" if better else f"[red]{text}[/]"


def metric_rows(metrics: dict[str, dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(n for group in metrics.values() for n in group))


def summary_table(metrics: dict[str, dict[str, Any]], title: str = "newsdesk evaluation") -> Table:
    """Metrics as rows, ``overall`` and each question type as columns."""
    groups = list(metrics)
    table = Table("metric", *groups, title=title)
    for name in metric_rows(metrics):
        table.add_row(label(name), *(fmt(name, metrics[g].get(name)) for g in groups))
    return table


def comparison_tables(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> list[Table]:
    """One table per group (overall, then each type): metric, A, B, and B − A."""
    ma, mb = a["metrics"], b["metrics"]
    tables = []
    for group in dict.fromkeys([*ma, *mb]):
        ga, gb = ma.get(group, {}), mb.get(group, {})
        table = Table("metric", names[0], names[1], "Δ (B − A)", title=group)
        for name in dict.fromkeys([*ga, *gb]):
            va, vb = ga.get(name), gb.get(name)
            table.add_row(label(name), fmt(name, va), fmt(name, vb), fmt_delta(name, va, vb))
        tables.append(table)
    return tables


def changed_questions(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(ids that fail in A and pass in B, ids that pass in A and fail in B), for questions in both."""
    def failing(report: dict[str, Any]) -> dict[str, bool]:
        k = report["config"]["k"]
        return {e["question"]["id"]: bool(failure_reasons(e, k)) for e in report["questions"]}

    fa, fb = failing(a), failing(b)
    both = [qid for qid in fa if qid in fb]
    return [q for q in both if fa[q] and not fb[q]], [q for q in both if fb[q] and not fa[q]]


def print_comparison(console: Console, a_path: Path, b_path: Path) -> None:
    """Two reports side by side, then the questions whose pass/fail changed."""
    a, b = load_report(a_path), load_report(b_path)
    for table in comparison_tables(a, b, (str(a_path), str(b_path))):
        console.print(table)
    fixed, broken = changed_questions(a, b)
    console.print(f"Passing only in B ({len(fixed)}): {', '.join(fixed) or '–'}")
    console.print(f"Failing only in B ({len(broken)}): {', '.join(broken) or '–'}")


@contextmanager
def eval_progress(console: Console) -> Iterator[Callable[[int, int], None]]:
    """A progress bar for ``run_eval``: yields the callback it reports to. Until the first question
    it shows the index being built or opened; the clock restarts when the questions start."""
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task("preparing the index", total=None)

    def report(done: int, total: int) -> None:
        if done == 0:
            progress.reset(task, total=total, description="asking questions")
        progress.update(task, completed=done, total=total)

    with progress:
        yield report


# ---- report.md ------------------------------------------------------------------------------


def render_markdown(data: dict[str, Any]) -> str:
    cfg, m = data["config"], data["manifest"]
    k = cfg["k"]
    lines = [
        f"# Evaluation: {Path(cfg['questions']).name}",
        "",
        f"- Run: {cfg['started_at']}, {len(data['questions'])} questions, k = {k}, {cfg['seconds']:.1f} s; "
        f"code {cfg.get('code') or 'unknown'}",
        f"- Index: {m['articles']} articles, {m['chunks']} chunks, built in {m['build_seconds']} s "
        f"(embedding {m['embed_seconds']} s); {m['model_id']}, {m['chunk_tokens']}-token chunks; `{cfg['index_dir']}`",
        f"- Archive: {', '.join(cfg['archive']) or '(the configured index)'}",
        "",
        "## Metrics by question type",
        "",
        f"![metrics by question type and latency]({REPORT_PNG})",
        "",
        *markdown_table(data["metrics"]),
        "",
    ]
    failed = [(entry, reasons) for entry in data["questions"] if (reasons := failure_reasons(entry, k))]
    lines += [f"## Failures ({len(failed)} of {len(data['questions'])})", ""]
    for entry, reasons in failed:
        lines += failure_section(entry, reasons)
    return "\n".join(lines).rstrip() + "\n"


def markdown_table(metrics: dict[str, dict[str, Any]]) -> list[str]:
    groups = list(metrics)
    rows = ["| metric | " + " | ".join(groups) + " |", "|---|" + "---:|" * len(groups)]
    for name in metric_rows(metrics):
        rows.append(f"| {label(name)} | " + " | ".join(fmt(name, metrics[g].get(name)) for g in groups) + " |")
    return rows


def failure_reasons(entry: dict[str, Any], k: int) -> list[str]:
    """Why a question counts as failed (empty: it passed)."""
    m = entry["metrics"]
    reasons = []
    if m.get("abstention") == 0.0:
        reasons.append("answered although the archive has no answer")
    if m.get("false_abstention") == 1.0:
        reasons.append("abstained although the archive answers it")
    if m.get(f"hit@{k}") == 0.0:
        reasons.append(f"no gold article in the top {k}")
    if m.get("answer_contained") == 0.0 and m.get("false_abstention") == 0.0:
        reasons.append("the short answer is not in what was shown")
    if m.get("verification") is not None and m["verification"] < 1.0:
        reasons.append("a shown quote does not verify")
    return reasons


def failure_section(entry: dict[str, Any], reasons: list[str]) -> list[str]:
    q, a = entry["question"], entry["answer"]
    lines = [f"### {q['id']} ({q['label']}): {'; '.join(reasons)}", "", f"- Question: {_md(q['question'])}"]
    if q["history"]:
        lines.append("- History: " + " → ".join(_md(h) for h in q["history"]))
    if q["answer"]:
        lines.append(f"- Expected answer: {_md(q['answer'])}")
    for g in q["evidence"]:
        lines.append(f"- Expected: `{g['article_id']}` “{_md(_short(g['text']))}”")
    if a["abstained"]:
        lines.append("- Shown: abstained")
    for quote in a["quotes"][:3]:
        lines.append(f"- Shown [{quote['source']}]: `{quote['article_id']}` “{_md(_short(quote['text']))}”")
    top = entry["retrieved"][:3]
    if top:
        lines.append("- Retrieved top 3: " + "; ".join(f"{r['rank']}. `{r['article_id']}` {_md(r['title'])}" for r in top))
    return [*lines, ""]


def _short(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _md(text: str) -> str:
    return re.sub(r"([\\`*_<>\[\]|])", r"\\\1", " ".join(text.split()))


# ---- report.png -----------------------------------------------------------------------------


def plot_report(data: dict[str, Any], path: Path) -> None:
    """Grouped bars of the main metrics by question type, and the latency histogram."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    k = data["config"]["k"]
    names = [n.format(k=k) for n in PLOTTED]
    metrics = data["metrics"]
    fig = Figure(figsize=(15, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    bars, hist = fig.subplots(1, 2, width_ratios=[3, 1])
    width = 0.8 / max(1, len(metrics))
    for i, (group, values) in enumerate(metrics.items()):
        xs = [j + i * width for j, n in enumerate(names) if values.get(n) is not None]
        ys = [values[n] for n in names if values.get(n) is not None]
        drawn = bars.bar(xs, ys, width, label=f"{group} ({values.get('questions', 0)})")
        bars.bar_label(drawn, fmt="%.2f", fontsize=6, rotation=90, padding=2)
    bars.set_xticks([j + width * (len(metrics) - 1) / 2 for j in range(len(names))], [label(n) for n in names], rotation=25, ha="right")
    bars.set_ylim(0, 1.15)
    bars.set_title("metrics by question type")
    bars.legend(fontsize="small")
    latencies = [e["metrics"]["latency"] * 1000 for e in data["questions"] if e["metrics"].get("latency") is not None]
    _latency_histogram(hist, latencies, metrics.get("overall", {}))
    fig.savefig(path, dpi=100)


def _latency_histogram(ax: Any, latencies: Sequence[float], overall: dict[str, Any]) -> None:
    ax.hist(latencies, bins=min(30, max(5, len(latencies) // 3)), color="tab:gray")
    for name, style in (("latency_p50", "--"), ("latency_p95", ":")):
        if overall.get(name) is not None:
            ax.axvline(overall[name] * 1000, color="black", linestyle=style, label=f"{name[-3:]} {overall[name] * 1000:.0f} ms")
    ax.set_title("latency per question")
    ax.set_xlabel("ms")
    ax.set_ylabel("questions")
    ax.legend(fontsize="small")
