"""The ``newsdesk`` command. Thin: parse options, call the library, turn errors into messages and exit codes."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .config import Settings, redact, redact_logs
from .errors import InputError, NewsdeskError

if TYPE_CHECKING:
    from .pruning import UpdatePlan

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Ask questions of a news archive; answers quote and cite the articles.")
index_app = typer.Typer(no_args_is_help=True, help="Build and inspect the index.")
app.add_typer(index_app, name="index")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

IndexDir = Annotated[Path | None, typer.Option("--index-dir", help="Index directory (NEWSDESK_INDEX_DIR).")]
Model = Annotated[str | None, typer.Option("--model", help="Embedding model (NEWSDESK_EMBED_MODEL).")]
Ray = Annotated[str | None, typer.Option(
    "--ray", metavar="ADDRESS", help="Read, clean, chunk and encode on this Ray cluster, host:port (NEWSDESK_RAY_ADDRESS).")]


def _settings(**overrides: Any) -> Settings:
    return Settings.from_env(None, **overrides)


def _no_network_or_telemetry() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@index_app.command("rebuild")
def index_rebuild(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders to index (default: NEWSDESK_ARCHIVE, seeds/).")] = None,
    index_dir: IndexDir = None,
    model: Model = None,
    ray: Ray = None,
) -> None:
    """Index PATHS into a new generation and switch to it when complete."""
    from .indexing import rebuild
    from .progress import RichProgress

    settings = _settings(index_dir=index_dir, embed_model=model, ray_address=ray)
    sources = paths or [settings.archive]
    with RichProgress(err) as progress:
        report = rebuild(sources, settings, progress=progress)
    from .terminal import print_build_report

    print_build_report(out, report, settings)


@index_app.command("update")
def index_update(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders with new or changed articles.")],
    prune: Annotated[bool, typer.Option("--prune", help="Remove articles whose file is gone, or was read whole without them; each is listed.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what the update would add, change and remove; write nothing.")] = False,
    index_dir: IndexDir = None,
    model: Model = None,
    ray: Ray = None,
) -> None:
    """Add new and re-index changed articles without re-encoding unchanged ones."""
    from .indexing import update
    from .progress import RichProgress
    from .terminal import print_build_report

    settings = _settings(index_dir=index_dir, embed_model=model, ray_address=ray)
    if dry_run:
        from .pruning import plan_update

        _print_plan(plan_update(paths, settings, prune=prune), prune)
        return
    with RichProgress(err) as progress:
        report = update(paths, settings, prune=prune, progress=progress)
    print_build_report(out, replace(report, removed=[]), settings)  # the removals are listed in full below
    if report.removals:
        out.print(f"Removed {len(report.removals)} article(s):")
        for removal in report.removals:
            out.print(f"  {escape(str(removal))}")


def _print_plan(plan: UpdatePlan, prune: bool) -> None:
    from .terminal import print_problems

    out.print(
        f"[bold]Dry run: nothing was written.[/] The update would read {plan.files} files: {plan.new} new, "
        f"{plan.changed} changed and {plan.unchanged} unchanged article(s)."
    )
    if plan.removals:
        out.print(f"Would remove {len(plan.removals)} article(s):")
        for removal in plan.removals:
            out.print(f"  {escape(str(removal))}")
    else:
        out.print("Would remove nothing." if prune else "Nothing is removed without --prune.")
    print_problems(out, plan.rejected, plan.notices)


@index_app.command("status")
def show_status(index_dir: IndexDir = None, model: Model = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show what the live index holds."""
    from .terminal import index_status, print_status, status_json

    settings = _settings(index_dir=index_dir, embed_model=model)
    if as_json:
        out.print_json(json.dumps(status_json(settings)))
    else:
        print_status(out, index_status(settings))


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    history: Annotated[list[str] | None, typer.Option("--history", help="An earlier question of the conversation (repeatable, oldest first).")] = None,
    publisher: Annotated[list[str] | None, typer.Option("--publisher", help="Only articles from this publisher (repeatable).")] = None,
    author: Annotated[list[str] | None, typer.Option("--author", help="Only articles by this author (repeatable).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only articles published on or after YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Only articles published on or before YYYY-MM-DD.")] = None,
    top_k: Annotated[int | None, typer.Option("--k", help="Stories retrieved (NEWSDESK_TOP_K).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole answer object as JSON.")] = False,
    index_dir: IndexDir = None,
    model: Model = None,
) -> None:
    """Answer QUESTION from the archive with verified, cited quotes."""
    from .chat import Newsdesk
    from .records import Filters, answer_to_dict
    from .terminal import print_answer

    filters = Filters.parse(publisher, author, since, until, labels=("--since", "--until"))
    settings = _settings(index_dir=index_dir, embed_model=model, top_k=top_k)
    desk = Newsdesk(settings)
    answer = desk.ask(question, history=tuple(history or ()), filters=filters)
    if desk.index.notice:  # the live generation is damaged; an earlier one answered
        err.print(f"[bold yellow]{escape(desk.index.notice)}[/]")
    if as_json:
        sys.stdout.write(json.dumps(answer_to_dict(answer), ensure_ascii=False, indent=2) + "\n")
    else:
        print_answer(out, answer)


@app.command("serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Address to bind (NEWSDESK_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (NEWSDESK_PORT).")] = None,
    index_dir: IndexDir = None,
) -> None:
    """Serve the browser chat (builds the index from the default archive first if there is none)."""
    from .chat import Newsdesk
    from .indexing import ensure_index
    from .ui import serve_chat

    settings = _settings(host=host, port=port, index_dir=index_dir)
    settings.login()  # a login with only one of user and password fails now, not after the index is built
    newsdesk = Newsdesk(settings)
    try:
        ensure_index(settings, newsdesk.embedder)
        newsdesk.index  # noqa: B018 - opened now, so that the first question does not wait
    except NewsdeskError as exc:  # the chat starts anyway: its page says how to build an index
        err.print(f"[bold yellow]{escape(redact(str(exc)))}[/]")
    serve_chat(newsdesk, settings)


@app.command("eval")
def evaluate(
    questions: Annotated[Path | None, typer.Argument(help="Question set: JSONL (project format) or MultiHop-RAG JSON/JSONL.")] = None,
    archive: Annotated[list[Path] | None, typer.Option("--archive", help="Build a fresh index of this file or folder in OUT/index first (repeatable).")] = None,
    index_dir: IndexDir = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Report directory (default: out/eval/<set>-<time>).")] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Cutoff for Hit@k, MRR@k and quote Hit@k; at least this many stories are retrieved.")] = 10,
    compare: Annotated[tuple[Path, Path] | None, typer.Option("--compare", help="Show two report.json files side by side instead.")] = None,
    model: Model = None,
    half: Annotated[str | None, typer.Option("--half", help="Only half A or B of the set (a fixed split by question id): tune on one, report the other.")] = None,
) -> None:
    """Run a question set through `ask` and write report.json, report.md and report.png."""
    from .eval_report import eval_progress, print_comparison, summary_table, write_report
    from .evaluation import run_eval

    if compare:
        print_comparison(out, *compare)
        return
    if questions is None:
        raise NewsdeskError("Give a question set (newsdesk eval QUESTIONS.jsonl) or --compare A/report.json B/report.json.")
    if half is not None and half.upper() not in ("A", "B"):
        raise InputError(f"--half {half!r} is not A or B.")
    target = out_dir or Path("out/eval") / f"{questions.stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    settings = _settings(index_dir=index_dir, embed_model=model)
    with eval_progress(err) as progress:
        run = run_eval(questions, settings, k=k, archive=tuple(archive or ()), out=target, progress=progress,
                       half=half.upper() if half else None)
    files = write_report(run, target)
    out.print(summary_table(run.metrics, title=f"{questions.name}: {len(run.results)} questions"))
    out.print(f"Reports: {files.json}, {files.markdown}, {files.plot}")


@app.command("settings")
def show_settings() -> None:
    """List every setting: its environment variable, current value (secrets hidden), default and meaning."""
    table = Table("variable", "value", "default", "meaning")
    for row in _settings().describe_values():
        table.add_row(*(escape(cell) for cell in row))
    out.print(table)


def main() -> None:
    _no_network_or_telemetry()
    redact_logs()
    try:
        app(standalone_mode=False)
    except NewsdeskError as exc:
        err.print(f"[bold red]error:[/] {redact(str(exc))}")
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted; the live index is unchanged")
        raise SystemExit(130) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except Exception as exc:  # usage errors ("No such option"), from click or from the copy of click typer bundles
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()  # type: ignore[attr-defined]
            raise SystemExit(exc.exit_code) from None  # type: ignore[attr-defined]
        if type(exc).__name__ == "Abort":
            raise SystemExit(1) from None
        raise


if __name__ == "__main__":
    main()
