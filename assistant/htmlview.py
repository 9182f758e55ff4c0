"""HTML renderings for the browser chat: the conversation, quote cards, the article reader, the
archive overview. No Gradio here (``ui.py`` wires these into the page).

Everything that comes from an article — title, publisher, author, body, link — and everything the
reader typed passes through ``esc`` (or ``safe_url``) before it reaches the page, so no script,
event handler, frame or external image from the archive can run or load. The interactive parts
are plain ``<button>`` elements with ``data-*`` attributes; the page's own script turns a click
into an event for the server.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from .records import Answer, Article, Filters, Quote, Source

TurnStatus = Literal["searching", "writing", "done", "stopped", "error"]
CITATION = re.compile(r"\[(\d{1,3})\]")
BUILD_COMMAND = "newsdesk index rebuild PATH"


@dataclass(frozen=True)
class Turn:
    """One question of the conversation and what is known of its answer so far."""

    question: str
    filters: Filters
    status: TurnStatus = "searching"
    partial: str = ""  # answer text streamed so far (before the Answer is complete)
    answer: Answer | None = None
    message: str = ""  # shown when the turn failed or was stopped


def esc(text: object) -> str:
    """Text as inert HTML: every ``<``, ``>``, ``&`` and quote escaped."""
    return html.escape("" if text is None else str(text), quote=True)


def safe_url(url: str | None) -> str | None:
    """An http(s) link, escaped for an attribute; anything else (``javascript:``, ``data:``) is dropped."""
    if not url or not re.match(r"^https?://[^\s\"'<>]+$", url.strip(), re.I):
        return None
    return esc(url.strip())


def nice_date(value: str | date | None) -> str:
    """``2016-09-28`` → ``28 Sep 2016``; a bare year or unknown text is shown as is."""
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    if value and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return nice_date(date.fromisoformat(value))
        except ValueError:
            return value
    return value or "date unknown"


# ---- the conversation --------------------------------------------------------------------------


def render_transcript(turns: Sequence[Turn]) -> str:
    if not turns:
        return _welcome()
    body = "".join(render_turn(t, i) for i, t in enumerate(turns, start=1))
    return f'<div class="nd-transcript" role="log" aria-label="Conversation">{body}</div>'


def _welcome() -> str:
    return (
        '<div class="nd-transcript nd-welcome" role="log" aria-label="Conversation">'
        '<p class="nd-welcome-title">Ask the news archive</p>'
        '<p class="nd-welcome-text">Every answer is built from sentences quoted word for word from the archived '
        "articles, each with its publisher, date and author. Click a quote to read it in its article.</p></div>"
    )


def render_turn(turn: Turn, number: int) -> str:
    question = f'<div class="nd-q"><span class="nd-visually-hidden">Question {number}: </span><p>{esc(turn.question)}</p></div>'
    if turn.status == "done" and turn.answer is not None:
        reply = render_answer(turn.answer, number)
    elif turn.status == "searching":
        reply = '<p class="nd-status"><span class="nd-spinner" aria-hidden="true"></span>Searching the archive…</p>'
    elif turn.status == "writing":
        reply = f'<div class="nd-text nd-streaming">{render_text(turn.partial, ())}</div>'
    elif turn.status == "stopped":
        partial = f'<div class="nd-text">{render_text(turn.partial, ())}</div>' if turn.partial else ""
        reply = partial + '<p class="nd-status nd-stopped">Stopped. Ask again when you are ready.</p>'
    else:
        reply = f'<p class="nd-status nd-error" role="alert">{esc(turn.message)}</p>'
    busy = ' aria-busy="true"' if turn.status in ("searching", "writing") else ""
    return f'<article class="nd-turn" data-turn="{number}"{busy}>{question}<div class="nd-a">{reply}</div></article>'


def render_answer(answer: Answer, turn: int = 1) -> str:
    if answer.abstained:
        return _render_abstention(answer, turn)
    cards = "".join(quote_card(q, _source(answer, q.source), turn) for q in answer.quotes)
    parts = [
        f'<div class="nd-text">{render_text(answer.text, answer.quotes, answer.sources, turn)}</div>',
        _notes(answer),
        f'<ul class="nd-cards" aria-label="Quotes">{cards}</ul>' if cards else "",
        _sources_list(answer.sources),
        disclosure(answer),
    ]
    return "".join(parts)


def render_text(text: str, quotes: Sequence[Quote], sources: Sequence[Source] = (), turn: int = 0) -> str:
    """Paragraphs of answer text with ``[n]`` turned into buttons that open source n's first quote."""
    first_quote: dict[int, Quote] = {}
    for q in quotes:
        first_quote.setdefault(q.source, q)
    titles = {s.number: s.title for s in sources}
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]

    def cite(match: re.Match[str]) -> str:
        n = int(match.group(1))
        q = first_quote.get(n)
        if q is None:
            return match.group(0)
        label = esc(f"Source {n}: {titles.get(n) or 'open the quoted passage'}")
        return f'<button type="button" class="nd-cite" {_target(q.article_id, q.start, q.end, n, turn)} aria-label="{label}">{n}</button>'

    return "".join(f"<p>{CITATION.sub(cite, esc(p)).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _target(article_id: str, start: int, end: int, number: int, turn: int) -> str:
    return f'data-article="{esc(article_id)}" data-start="{start}" data-end="{end}" data-n="{number}" data-turn="{turn}"'


def _source(answer: Answer, number: int) -> Source | None:
    return next((s for s in answer.sources if s.number == number), None)


def quote_card(quote: Quote, source: Source | None, turn: int) -> str:
    publisher = esc(source.publisher if source and source.publisher else "Unknown publisher")
    when = esc(nice_date(source.published if source else None))
    title = esc(source.title if source and source.title else "(untitled)")
    byline = f'<span class="nd-byline">By {esc(source.author)}</span>' if source and source.author else ""
    also = _also(source.also_published_by if source else ())
    label = esc(f"Quote from {source.publisher if source and source.publisher else 'an article'}, source {quote.source}: open the article")
    return (
        f'<li><button type="button" class="nd-card" {_target(quote.article_id, quote.start, quote.end, quote.source, turn)} '
        f'aria-label="{label}">'
        f'<span class="nd-card-top"><span class="nd-num" aria-hidden="true">{quote.source}</span>'
        f'<span class="nd-pub">{publisher}</span><span class="nd-date">{when}</span></span>'
        f'<span class="nd-quote">“{esc(quote.text)}”</span>'
        f'<span class="nd-card-title">{title}</span>{byline}{also}'
        '<span class="nd-open" aria-hidden="true">Read in article →</span></button></li>'
    )


def _also(publishers: Sequence[str]) -> str:
    if not publishers:
        return ""
    return f'<span class="nd-also">Also published by {esc(", ".join(publishers))}</span>'


def _notes(answer: Answer) -> str:
    if not answer.notes:
        return ""
    return '<ul class="nd-notes">' + "".join(f"<li>{esc(n)}</li>" for n in answer.notes) + "</ul>"


def _sources_list(sources: Sequence[Source]) -> str:
    if not sources:
        return ""
    items = "".join(f"<li>{source_line(s)}</li>" for s in sources)
    return f'<ol class="nd-sources" aria-label="Sources">{items}</ol>'


def source_line(s: Source) -> str:
    bits = [f'<span class="nd-src-n">[{s.number}]</span> <cite>{esc(s.title or "(untitled)")}</cite>']
    bits.append(esc(s.publisher or "unknown publisher"))
    bits.append(esc(nice_date(s.published)))
    if s.author:
        bits.append(esc(s.author))
    url = safe_url(s.url)
    if url:
        bits.append(f'<a href="{url}" target="_blank" rel="noopener noreferrer nofollow">link</a>')
    line = " · ".join(bits)
    if s.also_published_by:
        line += f' <span class="nd-also-inline">(also published by {esc(", ".join(s.also_published_by))})</span>'
    return line


def _render_abstention(answer: Answer, turn: int) -> str:
    text = "\n\n".join(p for p in answer.text.split("\n\n") if p.strip() and p.strip() != answer.coverage.strip())
    nearest = "".join(nearest_card(s, turn) for s in answer.nearest)
    parts = [
        f'<div class="nd-abstain" role="note"><span class="nd-badge">Not in the archive</span>{render_text(text, ())}</div>',
        _notes(answer),
        f'<p class="nd-nearest-h">Nearest articles</p><ul class="nd-cards nd-nearest" aria-label="Nearest articles">{nearest}</ul>' if nearest else "",
        f'<p class="nd-coverage">{esc(answer.coverage)}</p>' if answer.coverage else "",
        disclosure(answer),
    ]
    return "".join(parts)


def nearest_card(s: Source, turn: int) -> str:
    byline = f'<span class="nd-byline">By {esc(s.author)}</span>' if s.author else ""
    label = esc(f"Nearest article: {s.title or 'untitled'}: open it")
    return (
        f'<li><button type="button" class="nd-card nd-card-near" {_target(s.article_id, -1, -1, s.number, turn)} '
        f'aria-label="{label}">'
        f'<span class="nd-card-top"><span class="nd-pub">{esc(s.publisher or "Unknown publisher")}</span>'
        f'<span class="nd-date">{esc(nice_date(s.published))}</span></span>'
        f'<span class="nd-card-title">{esc(s.title or "(untitled)")}</span>{byline}{_also(s.also_published_by)}'
        '<span class="nd-open" aria-hidden="true">Open article →</span></button></li>'
    )


def disclosure(answer: Answer) -> str:
    """What was actually searched: the (rewritten) query, the filters, the coverage, the time taken."""
    rows = [("Searched for", esc(answer.searched_query)), ("Filters", esc(answer.filters.describe()))]
    if answer.coverage and not answer.abstained:
        rows.append(("Coverage", esc(answer.coverage)))
    total = answer.timings.get("total")
    if total is not None:
        rows.append(("Time", f"{total:.2f} s" if total < 1 else f"{total:.1f} s"))
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    rewritten = answer.searched_query.strip() != answer.question.strip()
    summary = "How this was searched" + (" (question rewritten)" if rewritten else "")
    return f'<details class="nd-how"><summary>{summary}</summary><dl>{body}</dl></details>'


# ---- the reader panel --------------------------------------------------------------------------


def render_article(article: Article, span: tuple[int, int] | None, source: Source | None) -> str:
    """The article with ``body[start:end]`` inside ``<mark>``; the rest escaped, line breaks kept."""
    text = article_paragraphs(article.body, span)
    published = article.published or (str(article.year) if article.year else None)
    meta = [f"<strong>{esc(article.publisher or 'Unknown publisher')}</strong>", esc(nice_date(published))]
    if article.author:
        meta.append(f"By {esc(article.author)}")
    url = safe_url(article.url)
    if url:
        meta.append(f'<a href="{url}" target="_blank" rel="noopener noreferrer nofollow">Original article ↗</a>')
    number = f'<span class="nd-num">{source.number}</span>' if source else ""
    hint = "The quoted passage is highlighted." if span else "Opened from the nearest articles; nothing is quoted from it."
    return (
        f'<article class="nd-reader nd-article" aria-labelledby="nd-article-title"><div class="nd-article-head">'
        f'<div class="nd-reader-bar">{number}<span class="nd-reader-kicker">Source article</span>'
        '<button type="button" class="nd-close" data-action="close">Close</button></div>'
        f'<h2 id="nd-article-title" tabindex="-1">{esc(article.title or "(untitled)")}</h2>'
        f'<p class="nd-meta">{" · ".join(meta)}</p>{_also(source.also_published_by if source else ())}'
        f'<p class="nd-hint">{hint}</p></div><div class="nd-body">{text}</div></article>'
    )


def article_paragraphs(body: str, span: tuple[int, int] | None) -> str:
    """``<p>`` per paragraph (blank-line separated); the part of each inside ``span`` wrapped in ``<mark>``."""
    out: list[str] = []
    marked = False
    for m in re.finditer(r"\S(?:.*?\S)?(?=\s*\n\s*\n|\s*$)", body, re.S):
        a, b = m.start(), m.end()
        if span is None or span[1] <= a or span[0] >= b:
            out.append(f"<p>{esc(body[a:b])}</p>")
            continue
        s, e = max(a, span[0]), min(b, span[1])
        ident = "" if marked else ' id="nd-mark"'
        marked = True
        out.append(f'<p>{esc(body[a:s])}<mark class="nd-mark"{ident}>{esc(body[s:e])}</mark>{esc(body[e:b])}</p>')
    return "".join(out)


def render_reader_message(message: str) -> str:
    return (
        '<div class="nd-reader nd-reader-msg"><div class="nd-reader-bar"><span class="nd-reader-kicker">Source article</span>'
        f'<button type="button" class="nd-close" data-action="close">Close</button></div><p>{esc(message)}</p></div>'
    )


def render_archive(info: dict[str, Any] | None) -> str:
    """The archive overview (from the index manifest), or how to build an index when there is none."""
    if info is None:
        return (
            '<section class="nd-reader nd-archive" aria-label="Archive"><div class="nd-reader-bar">'
            '<span class="nd-reader-kicker">The archive</span></div><p class="nd-hint">No index yet: what the archive holds '
            "will show here once one is built.</p></section>"
        )
    publishers = list(info.get("publishers") or [])
    shown = "".join(f"<li>{esc(p)}</li>" for p in publishers[:24])
    more = f"<li>and {len(publishers) - 24} more</li>" if len(publishers) > 24 else ""
    dates = f"{nice_date(info.get('date_min'))} – {nice_date(info.get('date_max'))}" if info.get("date_min") else "no dated articles"
    undated = f" · {info['undated']} undated" if info.get("undated") else ""
    model_note = "" if info.get("model_matches_settings", True) else ' <span class="nd-warn">(not the configured model: rebuild)</span>'
    stats = [("Articles", f"{info.get('articles', 0):,}"), ("Passages", f"{info.get('chunks', 0):,}"), ("Publishers", f"{len(publishers):,}")]
    tiles = "".join(f'<div class="nd-stat"><span class="nd-stat-v">{v}</span><span class="nd-stat-k">{k}</span></div>' for k, v in stats)
    return (
        '<section class="nd-reader nd-archive" aria-label="Archive">'
        '<div class="nd-reader-bar"><span class="nd-reader-kicker">The archive</span></div>'
        f'<div class="nd-stats">{tiles}</div>'
        f'<dl class="nd-facts"><dt>Dates</dt><dd>{esc(dates)}{esc(undated)}</dd>'
        f"<dt>Model</dt><dd>{esc(info.get('model'))}{model_note}</dd>"
        f"<dt>Last rebuild</dt><dd>{esc(_built_at(info.get('built_at')))}</dd></dl>"
        f'<p class="nd-sub">Publishers</p><ul class="nd-chips">{shown}{more or ""}</ul>'
        '<p class="nd-hint">Click a quote card in an answer to read the quoted passage in its article here.</p></section>'
    )


def _built_at(value: object) -> str:
    text = str(value or "unknown")
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}):\d{2}Z", text)
    return f"{nice_date(match.group(1))}, {match.group(2)} UTC" if match else text


def render_no_index() -> str:
    return (
        '<section class="nd-noindex" role="alert" aria-label="No index">'
        '<p class="nd-noindex-title">No index — there is no archive to search yet.</p>'
        f"<p>Build one with <code>{esc(BUILD_COMMAND)}</code>, for example "
        "<code>newsdesk index rebuild seeds/</code>, then reload this page.</p></section>"
    )


def render_summary(info: dict[str, Any] | None) -> str:
    """One line under the title: what the archive holds."""
    if info is None:
        return '<span class="nd-summary nd-warn">No index</span>'
    publishers = info.get("publishers") or []
    bits = [f"{info.get('articles', 0):,} articles", f"{len(publishers):,} publishers"]
    if info.get("date_min"):
        bits.append(f"{nice_date(info['date_min'])} – {nice_date(info['date_max'])}")
    return f'<span class="nd-summary">{esc(" · ".join(bits))}</span>'


def render_header(info: dict[str, Any] | None, loading: bool = False) -> str:
    state = "loading" if loading else ("ready" if info is not None else "no-index")
    summary = '<span class="nd-summary">Opening the archive…</span>' if loading else render_summary(info)
    return (
        f'<header class="nd-header" data-state="{state}"><div class="nd-brand"><span class="nd-logo" aria-hidden="true">“</span>'
        '<div><h1>newsdesk</h1><p class="nd-tagline">Answers quoted word for word from the news archive</p></div></div>'
        f'<div class="nd-header-right">{summary}'
        '<button type="button" class="nd-theme" aria-label="Switch between light and dark theme">◐ Theme</button></div></header>'
    )


def render_examples(questions: Sequence[str]) -> str:
    if not questions:
        return ""
    chips = "".join(f'<button type="button" class="nd-example" data-q="{esc(q)}">{esc(q)}</button>' for q in questions)
    return f'<div class="nd-examples" aria-label="Example questions"><p class="nd-sub">Try asking</p>{chips}</div>'


def render_filters_line(filters: Filters | None, error: str = "") -> str:
    if error:
        return f'<p class="nd-scope nd-warn" role="status">{esc(error)}</p>'
    if filters is None or filters.empty:
        return '<p class="nd-scope" role="status">Searching the whole archive</p>'
    return f'<p class="nd-scope nd-scope-on" role="status">Searching only: {esc(filters.describe())}</p>'


# ---- the stylesheet (Gradio's theme variables, so light and dark both work) ----------------------

CSS = """
.gradio-container {
  --nd-serif: "Iowan Old Style", "Palatino Linotype", Palatino, Georgia, "Times New Roman", serif;
  --nd-accent: var(--primary-600); --nd-accent-soft: var(--primary-50); --nd-muted: var(--body-text-color-subdued);
  --nd-line: var(--border-color-primary); --nd-card: var(--background-fill-primary); --nd-page: var(--background-fill-secondary);
  --nd-mark: #fde68a; --nd-mark-text: #1c1917; --nd-warn: #b45309; --nd-warn-bg: #fffbeb; --nd-warn-line: #f59e0b;
  --nd-q: var(--primary-50); --nd-q-text: var(--primary-900);
}
.dark .gradio-container {
  --nd-accent: var(--primary-300); --nd-accent-soft: rgba(99, 102, 241, 0.16);
  --nd-mark: #facc15; --nd-mark-text: #111827; --nd-warn: #fbbf24; --nd-warn-bg: rgba(245, 158, 11, 0.12); --nd-warn-line: #b45309;
  --nd-q: rgba(99, 102, 241, 0.18); --nd-q-text: var(--neutral-100);
}
.gradio-container { max-width: 1440px !important; margin: 0 auto !important; overflow: clip !important; }
#nd-header, #nd-transcript, #nd-examples, #nd-scope, #nd-reader { padding: 0 !important; border: 0 !important; background: none !important; }
.nd-visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.nd-header { display: flex; align-items: center; justify-content: space-between; gap: 12px; flex-wrap: wrap; padding: 4px 2px 10px; border-bottom: 1px solid var(--nd-line); }
.nd-brand { display: flex; align-items: center; gap: 12px; }
.nd-logo { font-family: var(--nd-serif); font-size: 48px; line-height: 0.8; color: var(--nd-accent); height: 30px; }
.nd-header h1 { font-family: var(--nd-serif); font-size: 26px; margin: 0; letter-spacing: -0.01em; color: var(--body-text-color); }
.nd-tagline { margin: 0; font-size: 13px; color: var(--nd-muted); }
.nd-header-right { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.nd-summary { font-size: 13px; color: var(--nd-muted); border: 1px solid var(--nd-line); border-radius: 999px; padding: 4px 12px; background: var(--nd-card); }
.nd-theme, .nd-close { font: inherit; font-size: 13px; cursor: pointer; color: var(--body-text-color); background: var(--nd-card);
  border: 1px solid var(--nd-line); border-radius: 999px; padding: 4px 12px; }
.nd-theme:hover, .nd-close:hover { border-color: var(--nd-accent); color: var(--nd-accent); }
button:focus-visible, a:focus-visible, summary:focus-visible, [tabindex]:focus-visible { outline: 3px solid var(--nd-accent); outline-offset: 2px; }
#nd-main { gap: 20px; margin-top: 10px; }
#nd-side { position: sticky; top: 10px; align-self: flex-start; }

.nd-transcript { display: flex; flex-direction: column; gap: 26px; padding: 6px 4px 12px; color: var(--body-text-color); }
.nd-welcome { align-items: flex-start; padding: 28px 4px 8px; gap: 6px; }
.nd-welcome-title { font-family: var(--nd-serif); font-size: 28px; margin: 0; }
.nd-welcome-text { margin: 0; color: var(--nd-muted); max-width: 60ch; line-height: 1.55; }
.nd-turn { display: flex; flex-direction: column; gap: 12px; scroll-margin-top: 12px; }
.nd-turn:last-child:not(:first-child) { min-height: calc(100vh - 190px); }
.nd-q { align-self: flex-end; max-width: 85%; background: var(--nd-q); color: var(--nd-q-text); border-radius: 16px 16px 4px 16px; padding: 10px 14px; }
.nd-q p { margin: 0; font-weight: 600; line-height: 1.45; overflow-wrap: anywhere; }
.nd-a { display: flex; flex-direction: column; gap: 12px; }
.nd-text { font-size: 16px; line-height: 1.65; max-width: 75ch; overflow-wrap: anywhere; }
.nd-text p { margin: 0 0 10px; }
.nd-text p:last-child { margin-bottom: 0; }
.nd-streaming p:last-child::after { content: "▍"; margin-left: 2px; color: var(--nd-accent); animation: nd-blink 1s steps(2) infinite; }
@keyframes nd-blink { 50% { opacity: 0; } }
.nd-cite { font: inherit; font-size: 11px; font-weight: 700; line-height: 1; vertical-align: super; cursor: pointer; margin: 0 1px;
  padding: 2px 6px; border-radius: 999px; border: 1px solid var(--nd-accent); color: var(--nd-accent); background: var(--nd-accent-soft); }
.nd-cite:hover { background: var(--nd-accent); color: var(--background-fill-primary); }
.nd-status { display: flex; align-items: center; gap: 8px; margin: 0; color: var(--nd-muted); }
.nd-error { color: var(--error-text-color); }
.nd-spinner { width: 14px; height: 14px; border-radius: 50%; border: 2px solid var(--nd-line); border-top-color: var(--nd-accent); animation: nd-spin 0.8s linear infinite; }
@keyframes nd-spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .nd-spinner, .nd-streaming p:last-child::after { animation: none; } }

.nd-cards { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 12px; }
.nd-cards > li { margin: 0; padding: 0; display: flex; }
.nd-card { all: unset; box-sizing: border-box; width: 100%; cursor: pointer; display: flex; flex-direction: column; gap: 8px; padding: 14px 16px;
  background: var(--nd-card); border: 1px solid var(--nd-line); border-radius: 12px; color: var(--body-text-color);
  box-shadow: 0 1px 2px rgba(15, 23, 42, 0.05); transition: border-color .15s, box-shadow .15s, transform .15s; }
.nd-card:hover { border-color: var(--nd-accent); box-shadow: 0 6px 18px rgba(15, 23, 42, 0.10); transform: translateY(-1px); }
.nd-card:focus-visible { outline: 3px solid var(--nd-accent); outline-offset: 2px; }
.nd-card.is-open { border-color: var(--nd-accent); box-shadow: 0 0 0 2px var(--nd-accent-soft); }
.nd-card-top { display: flex; align-items: center; gap: 8px; font-size: 13px; }
.nd-num { display: inline-flex; align-items: center; justify-content: center; min-width: 22px; height: 22px; padding: 0 6px; box-sizing: border-box;
  border-radius: 999px; background: var(--nd-accent); color: var(--background-fill-primary); font-size: 12px; font-weight: 700; }
.nd-pub { font-weight: 700; overflow-wrap: anywhere; }
.nd-date { margin-left: auto; color: var(--nd-muted); white-space: nowrap; }
.nd-quote { font-family: var(--nd-serif); font-size: 16px; line-height: 1.5; border-left: 3px solid var(--nd-accent); padding-left: 10px; overflow-wrap: anywhere;
  display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 5; line-clamp: 5; overflow: hidden; }
.nd-card-title { font-size: 13px; font-weight: 600; color: var(--body-text-color); line-height: 1.35; overflow-wrap: anywhere; }
.nd-byline, .nd-also { font-size: 12px; color: var(--nd-muted); overflow-wrap: anywhere; }
.nd-open { font-size: 12px; font-weight: 600; color: var(--nd-accent); margin-top: auto; }
.nd-card-near .nd-card-title { font-size: 15px; font-family: var(--nd-serif); }
.nd-notes { margin: 0; padding-left: 18px; font-size: 13px; color: var(--nd-muted); }
.nd-sources { margin: 0; padding: 0; list-style: none; font-size: 12.5px; color: var(--nd-muted); line-height: 1.5; }
.nd-sources cite { font-style: normal; color: var(--body-text-color); }
.nd-sources a, .nd-meta a { color: var(--nd-accent); }
.nd-src-n { font-weight: 700; }
.nd-how { font-size: 13px; color: var(--nd-muted); }
.nd-how summary { cursor: pointer; width: fit-content; }
.nd-how dl, .nd-facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 8px 0 0; }
.nd-how dt, .nd-facts dt { font-weight: 600; color: var(--body-text-color); }
.nd-how dd, .nd-facts dd { margin: 0; overflow-wrap: anywhere; }
.nd-abstain { border: 1px solid var(--nd-warn-line); background: var(--nd-warn-bg); border-radius: 12px; padding: 12px 16px; line-height: 1.55; }
.nd-abstain p { margin: 6px 0 0; }
.nd-badge { display: inline-block; font-size: 12px; font-weight: 700; text-transform: uppercase; letter-spacing: .04em; color: var(--nd-warn); }
.nd-nearest-h, .nd-sub { margin: 4px 0 0; font-size: 12px; font-weight: 700; text-transform: uppercase; letter-spacing: .05em; color: var(--nd-muted); }
.nd-coverage { margin: 0; font-size: 13px; color: var(--nd-muted); font-style: italic; }

.nd-examples { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 0 4px 6px; }
.nd-examples .nd-sub { width: 100%; }
.nd-example { font: inherit; font-size: 14px; text-align: left; cursor: pointer; color: var(--body-text-color); background: var(--nd-card);
  border: 1px solid var(--nd-line); border-radius: 999px; padding: 7px 14px; line-height: 1.35; max-width: 100%; }
.nd-example:hover { border-color: var(--nd-accent); color: var(--nd-accent); }
.nd-scope { margin: 0; padding: 0 4px; font-size: 13px; color: var(--nd-muted); }
.nd-scope-on { color: var(--nd-accent); font-weight: 600; }
.nd-warn { color: var(--nd-warn); }
#nd-dock { position: sticky; bottom: 0; z-index: 5; background: var(--body-background-fill); padding: 8px 0 10px; gap: 6px;
  border-top: 1px solid var(--nd-line); }
#nd-composer { align-items: stretch; gap: 8px; }
#nd-composer textarea { font-size: 16px !important; }
#nd-clear, #nd-clear-filters { align-self: flex-start; width: fit-content !important; min-width: 0 !important; flex: none !important;
  padding: 4px 14px !important; }

.nd-reader { background: var(--nd-card); border: 1px solid var(--nd-line); border-radius: 14px; padding: 16px 20px 20px; color: var(--body-text-color);
  max-height: calc(100vh - 40px); overflow: auto; box-sizing: border-box; }
.nd-reader-bar { display: flex; align-items: center; gap: 8px; margin-bottom: 8px; }
.nd-article-head { position: sticky; top: -16px; z-index: 1; background: var(--nd-card); margin: -16px -20px 0; padding: 16px 20px 2px;
  border-bottom: 1px solid var(--nd-line); }
.nd-reader-kicker { font-size: 12px; font-weight: 700; text-transform: uppercase; letter-spacing: .06em; color: var(--nd-muted); }
.nd-reader-bar .nd-close { margin-left: auto; }
.nd-article h2 { font-family: var(--nd-serif); font-size: 24px; line-height: 1.25; margin: 4px 0 8px; overflow-wrap: anywhere; }
.nd-article h2:focus { outline: none; }
.nd-meta { margin: 0 0 6px; font-size: 14px; color: var(--nd-muted); overflow-wrap: anywhere; }
.nd-meta strong { color: var(--body-text-color); }
.nd-hint { margin: 8px 0; font-size: 13px; color: var(--nd-muted); }
.nd-body { font-family: var(--nd-serif); font-size: 17px; line-height: 1.7; white-space: pre-line; overflow-wrap: anywhere; max-width: 70ch;
  padding-top: 14px; }
.nd-body p { margin: 0 0 1em; }
.nd-mark { background: var(--nd-mark); color: var(--nd-mark-text); border-radius: 3px; padding: 1px 2px; box-decoration-break: clone;
  -webkit-box-decoration-break: clone; scroll-margin: 80px; }
.nd-stats { display: grid; grid-template-columns: repeat(3, 1fr); gap: 10px; margin: 6px 0 14px; }
.nd-stat { border: 1px solid var(--nd-line); border-radius: 10px; padding: 10px 12px; display: flex; flex-direction: column; }
.nd-stat-v { font-family: var(--nd-serif); font-size: 24px; font-weight: 700; }
.nd-stat-k { font-size: 12px; color: var(--nd-muted); text-transform: uppercase; letter-spacing: .05em; }
.nd-facts { font-size: 14px; margin-bottom: 14px; }
.nd-chips { list-style: none; display: flex; flex-wrap: wrap; gap: 6px; padding: 0; margin: 6px 0 0; }
.nd-chips li { font-size: 13px; border: 1px solid var(--nd-line); border-radius: 999px; padding: 3px 10px; overflow-wrap: anywhere; }
.nd-reader-msg p { margin: 0; }
.nd-noindex { border: 1px solid var(--nd-warn-line); background: var(--nd-warn-bg); border-radius: 14px; padding: 18px 20px; line-height: 1.55; color: var(--body-text-color); }
.nd-noindex-title { font-family: var(--nd-serif); font-size: 22px; margin: 0 0 6px; }
.nd-noindex p { margin: 0; }
.nd-noindex code { font-family: var(--font-mono); background: var(--code-background-fill); padding: 1px 6px; border-radius: 6px; }

@media (max-width: 760px) {
  #nd-side { position: static; }
  .nd-reader { max-height: none; padding: 14px; }
  .nd-article-head { position: static; margin: -14px -14px 0; padding: 14px 14px 2px; }
  .nd-q { max-width: 95%; }
  .nd-header h1 { font-size: 22px; }
  .nd-stats { grid-template-columns: repeat(3, minmax(0, 1fr)); }
  .nd-body { font-size: 16px; }
  .nd-header-right { width: 100%; justify-content: space-between; }
  .nd-summary { border: 0; padding: 0; background: none; }
  .nd-welcome { padding-top: 8px; }
  .nd-welcome-title { font-size: 24px; }
}
"""
