"""Plain-text renderings for the terminal: answers, build summaries, index status (and reading that status)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.markup import escape

from .config import Settings, redact
from .embedding import resolve_model
from .indexing import BuildReport
from .records import Answer, IndexStatus, Source
from .store import Serving, serving_generation


def source_line(s: Source) -> str:
    """"[1] Title — Publisher — 2016-09-28 — Author — labelled “satire” by the data set — URL": what the
    article has, nothing said of what it lacks."""
    parts = [f"[{s.number}] {s.title or '(untitled)'}"]
    parts.extend(x for x in (s.publisher, s.published, s.author) if x)
    if s.label:
        parts.append(f"labelled “{s.label}” by the data set")
    parts.append(s.url or s.origin)
    line = " — ".join(parts)
    if s.also_published_by:
        line += " (also published by " + ", ".join(s.also_published_by) + ")"
    return line


def print_answer(console: Console, answer: Answer) -> None:
    console.print(escape(answer.text))
    if answer.notes:
        console.print()
        for note in answer.notes:
            console.print(f"[dim]{escape(note)}[/]")
    if answer.sources:
        console.print("\n[bold]Sources[/]")
        for s in answer.sources:
            console.print(escape(source_line(s)))
    if answer.related:
        console.print("\n[bold]Related articles[/] [dim](not cited)[/]")
        for s in answer.related:
            console.print(escape(source_line(s)))
    if answer.nearest:
        console.print("\n[bold]Nearest articles[/]")
        for s in answer.nearest:
            console.print(escape(source_line(s)))
    if answer.searched_query != answer.question.strip() or not answer.filters.empty:
        scope = "" if answer.filters.empty else f" ({answer.filters.describe()})"
        console.print(f"\n[dim]Searched: {escape(answer.searched_query)}{escape(scope)}[/]")


def print_build_report(console: Console, report: BuildReport, settings: Settings) -> None:
    console.print(
        f"[bold green]Indexed[/] {report.articles} articles ({report.chunks} chunks) from {report.files} files "
        f"in {report.seconds:.1f} s into {escape(str(settings.index_dir))}."
    )
    if report.reused:
        console.print(f"{report.reused} unchanged articles reused their stored vectors; {report.embedded} chunks encoded.")
    if report.removed:
        console.print(f"{len(report.removed)} article(s) removed: " + escape(", ".join(report.removed[:20])))
    if report.duplicates:
        console.print(f"{len(report.duplicates)} duplicate(s) stored once:")
        for p in report.duplicates:
            console.print(f"  {escape(str(p))}")
    print_problems(console, report.rejected, report.notices)


def print_problems(console: Console, rejected: Sequence[object], notices: Sequence[object]) -> None:
    """What could not be read (with its location), then what was only noted."""
    if rejected:
        console.print(f"[bold yellow]{len(rejected)} rejected[/]:")
        for p in rejected:
            console.print(f"  {escape(str(p))}")
    for p in notices:
        console.print(f"[dim]  {escape(str(p))}[/]")


def index_status(settings: Settings, serving: Serving | None = None) -> IndexStatus:
    """What the serving index holds, from its manifest (no model load). ``notice`` is non-empty when
    the live generation is damaged and an earlier one answers instead."""
    serving = serving or serving_generation(settings.index_dir)
    m = serving.manifest
    configured, _ = resolve_model(settings.embed_model)
    return IndexStatus(
        index_dir=str(settings.index_dir),
        generation=serving.directory.name,
        notice=serving.notice,
        store=redact(m.store_description, settings),
        articles=m.articles,
        chunks=m.chunks,
        publishers=tuple(m.publishers),
        date_min=m.date_min,
        date_max=m.date_max,
        undated=m.undated,
        model=m.model_id,
        dimension=m.dimension,
        backend=m.backend,
        model_matches_settings=configured == m.model_id,
        chunk_tokens=m.chunk_tokens,
        chromadb=m.chromadb_version,
        built_at=m.built_at,
        build_seconds=m.build_seconds,
        sources=tuple(m.sources),
        rejected=len(m.report.get("rejected", [])),
        duplicates=len(m.report.get("duplicates", [])),
        built_on=_built_on(m.built_with, settings),
    )


def _built_on(built_with: Mapping[str, object], settings: Settings) -> str:
    """Where the generation was read, chunked and encoded (the manifest's ``built_with``)."""
    if not built_with.get("ray"):
        return "this machine"
    return f"a Ray cluster at {redact(str(built_with['ray']), settings)} ({built_with.get('encoders', '?')} encoders)"


def status_json(settings: Settings) -> dict[str, object]:
    """The index status as JSON data (``newsdesk index status --json``)."""
    return index_status(settings).to_dict()


def print_status(console: Console, info: IndexStatus) -> None:
    pubs = info.publishers
    dates = f"{info.date_min} to {info.date_max}" if info.date_min else "no dated articles"
    rows = [
        ("Index", f"{info.index_dir} (generation {info.generation})"),
        ("Vectors", f"Chroma, {info.store}"),
        ("Articles", f"{info.articles} ({info.chunks} chunks)"),
        ("Publishers", f"{len(pubs)}: " + ", ".join(pubs[:8]) + (" …" if len(pubs) > 8 else "") if pubs else "none named"),
        ("Dates", dates + (f"; {info.undated} undated" if info.undated else "")),
        ("Model", f"{info.model} ({info.dimension} dimensions, {info.backend})" + ("" if info.model_matches_settings else " — does not match NEWSDESK_EMBED_MODEL")),
        ("Built", f"{info.built_at} in {info.build_seconds} s on {info.built_on}; chromadb {info.chromadb}"),
        ("Sources", ", ".join(info.sources)),
        ("Rejected", f"{info.rejected} records; {info.duplicates} duplicates stored once"),
    ]
    for key, value in rows:
        console.print(f"[bold]{key:<11}[/]{escape(str(value))}")
    if info.notice:
        console.print(f"[bold yellow]{escape(info.notice)}[/]")
