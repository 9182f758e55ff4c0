"""HTML renderings for the browser chat: the conversation, quote cards, the article reader, the
archive overview. No Gradio here (``page.py`` wires these into the page).

Everything that comes from an article — title, publisher, author, body, link — and everything the
reader typed passes through ``esc`` (or ``safe_url``) before it reaches the page, so no script,
event handler, frame or external image from the archive can run or load. The interactive parts
are plain ``<button>`` elements with ``data-*`` attributes; the page's own script turns a click
into an event for the server.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Literal

from ..errors import REBUILD_COMMAND
from ..records import Answer, Article, Filters, IndexStatus, Quote, Source

TurnStatus = Literal["searching", "writing", "done", "stopped", "error"]
CITATION = re.compile(r"\[(\d{1,3})\]")
QUOTED = re.compile(r"“[^“”]*”")
DIRECT = re.compile(r"\*\*([^*\n]{1,200})\*\*(?= — )")  # the answer span leading an answer
OUTCOME_BADGES = {"not_answered": "Not in the archive", "nothing_found": "Not in the archive · nothing related found"}


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
    return escape("" if text is None else str(text), quote=True)


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
    return value or ""


def card_top(source: Source | None) -> str:
    """A card's header: publisher, date and the data set's label — each only when the article has it."""
    if source is None:
        return ""
    bits = [f'<span class="nd-pub">{esc(source.publisher)}</span>' if source.publisher else "",
            f'<span class="nd-date">{esc(nice_date(source.published))}</span>' if source.published else "",
            f'<span class="nd-label" title="as labelled by the data set">{esc(source.label)}</span>' if source.label else ""]
    return "".join(bits)


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
        reply = f'<div class="nd-text nd-streaming">{text_html(turn.partial, ())}</div>'
    elif turn.status == "stopped":
        partial = f'<div class="nd-text">{text_html(turn.partial, ())}</div>' if turn.partial else ""
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
        f'<div class="nd-text">{text_html(answer.text, answer.quotes, answer.sources, turn)}</div>',
        _notes_html(answer),
        f'<ul class="nd-cards" aria-label="Quotes">{cards}</ul>' if cards else "",
        _sources_list(answer.sources),
        _related_list(answer.related, turn),
        disclosure(answer),
    ]
    return "".join(parts)


def _related_list(related: Sequence[Source], turn: int) -> str:
    """Other stories found on the topic: to open and read, not cited as the answer."""
    if not related:
        return ""
    cards = "".join(nearest_card(s, turn, label="Related article") for s in related)
    return f'<p class="nd-nearest-h">Related articles (not cited)</p><ul class="nd-related" aria-label="Related articles">{cards}</ul>'


def text_html(text: str, quotes: Sequence[Quote], sources: Sequence[Source] = (), turn: int = 0) -> str:
    """Paragraphs of answer text. A ``[n]`` outside quoted text becomes a button that opens source
    n's first quote; inside “…” it is the article's own text and stays text. When the answer has
    verified quotes, each is set apart (``nd-said``) from the connective words around it
    (``nd-prose``: the writer's or the composer's wording, which is not quoted)."""
    first_quote: dict[int, Quote] = {}
    for q in quotes:
        first_quote.setdefault(q.source, q)
    titles = {s.number: s.title for s in sources}
    said = sorted({q.text for q in quotes}, key=len, reverse=True)

    def cite(match: re.Match[str]) -> str:
        n = int(match.group(1))
        q = first_quote.get(n)
        if q is None:
            return match.group(0)
        label = esc(f"Source {n}: {titles.get(n) or 'open the quoted passage'}")
        return f'<button type="button" class="nd-cite" {_target(q.article_id, q.start, q.end, n, turn)} aria-label="{label}">{n}</button>'

    def prose(piece: str) -> str:
        pos, out = 0, []
        for m in QUOTED.finditer(piece):  # quoted text that is not a verified quote (a title): no buttons
            out += [CITATION.sub(cite, esc(piece[pos : m.start()])), esc(m.group(0))]
            pos = m.end()
        shown = "".join([*out, CITATION.sub(cite, esc(piece[pos:]))])
        return f'<span class="nd-prose">{shown}</span>' if said and piece.strip() else shown

    shown = []
    for i, paragraph in enumerate(p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()):
        lead = DIRECT.match(paragraph) if i == 0 else None  # the direct answer leads: "**1998** — according to …"
        html = f'<strong class="nd-direct">{esc(lead.group(1))}</strong>' if lead else ""
        pos = lead.end() if lead else 0
        for start, end in _said_spans(paragraph, said):
            html += prose(paragraph[pos:start]) + f'<span class="nd-said">{esc(paragraph[start:end])}</span>'
            pos = end
        shown.append((html + prose(paragraph[pos:])).replace(chr(10), "<br>"))
    return "".join(f"<p>{p}</p>" for p in shown)


def _said_spans(text: str, said: Sequence[str]) -> list[tuple[int, int]]:
    """Where ``text`` holds “…” around verified quote text (ellipsis parts joined by " … ")."""
    spans: list[tuple[int, int]] = []
    at = text.find("“")
    while at >= 0:
        end = at + 1
        while (part := next((t for t in said if text.startswith(t, end)), None)) is not None:
            end += len(part)
            if not text.startswith(" … ", end):
                break
            end += len(" … ")
        if end > at + 1 and text.startswith("”", end):
            spans.append((at, end + 1))
            at = text.find("“", end + 1)
        else:
            at = text.find("“", at + 1)
    return spans


def _target(article_id: str, start: int, end: int, number: int, turn: int) -> str:
    return f'data-article="{esc(article_id)}" data-start="{start}" data-end="{end}" data-n="{number}" data-turn="{turn}"'


def _source(answer: Answer, number: int) -> Source | None:
    return next((s for s in answer.sources if s.number == number), None)


def quote_card(quote: Quote, source: Source | None, turn: int) -> str:
    title = esc(source.title if source and source.title else "(untitled)")
    byline = f'<span class="nd-byline">By {esc(source.author)}</span>' if source and source.author else ""
    also = _also_html(source.also_published_by if source else ())
    label = esc(f"Quote from {source.publisher if source and source.publisher else 'an article'}, source {quote.source}: open the article")
    return (
        f'<li><button type="button" class="nd-card" {_target(quote.article_id, quote.start, quote.end, quote.source, turn)} '
        f'aria-label="{label}">'
        f'<span class="nd-card-top"><span class="nd-num" aria-hidden="true">{quote.source}</span>'
        f'{card_top(source)}</span>'
        f'<span class="nd-quote">“{esc(quote.text)}”</span>'
        f'<span class="nd-card-title">{title}</span>{byline}{also}'
        '<span class="nd-open" aria-hidden="true">Read in article →</span></button></li>'
    )


def _also_html(publishers: Sequence[str]) -> str:
    if not publishers:
        return ""
    return f'<span class="nd-also">Also published by {esc(", ".join(publishers))}</span>'


def _notes_html(answer: Answer) -> str:
    if not answer.notes:
        return ""
    return '<ul class="nd-notes">' + "".join(f"<li>{esc(n)}</li>" for n in answer.notes) + "</ul>"


def _sources_list(sources: Sequence[Source]) -> str:
    if not sources:
        return ""
    items = "".join(f"<li>{source_html(s)}</li>" for s in sources)
    return f'<ol class="nd-sources" aria-label="Sources">{items}</ol>'


def source_html(s: Source) -> str:
    bits = [f'<span class="nd-src-n">[{s.number}]</span> <cite>{esc(s.title or "(untitled)")}</cite>']
    bits.extend(esc(x) for x in (s.publisher, nice_date(s.published), s.author) if x)
    if s.label:
        bits.append(f'<span class="nd-label">labelled “{esc(s.label)}” by the data set</span>')
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
        f'<div class="nd-abstain" role="note" data-outcome="{esc(answer.outcome)}">'
        f'<span class="nd-badge">{OUTCOME_BADGES.get(answer.outcome, "Not in the archive")}</span>{text_html(text, ())}</div>',
        _notes_html(answer),
        f'<p class="nd-nearest-h">Nearest articles</p><ul class="nd-cards nd-nearest" aria-label="Nearest articles">{nearest}</ul>' if nearest else "",
        f'<p class="nd-coverage">{esc(answer.coverage)}</p>' if answer.coverage else "",
        disclosure(answer),
    ]
    return "".join(parts)


def nearest_card(s: Source, turn: int, label: str = "Nearest article") -> str:
    byline = f'<span class="nd-byline">By {esc(s.author)}</span>' if s.author else ""
    label = esc(f"{label}: {s.title or 'untitled'}: open it")
    return (
        f'<li><button type="button" class="nd-card nd-card-near" {_target(s.article_id, -1, -1, s.number, turn)} '
        f'aria-label="{label}">'
        f'<span class="nd-card-top">{card_top(s)}</span>'
        f'<span class="nd-card-title">{esc(s.title or "(untitled)")}</span>{byline}{_also_html(s.also_published_by)}'
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
    meta = [f"<strong>{esc(article.publisher)}</strong>" if article.publisher else "", esc(nice_date(published))]
    meta = [m for m in meta if m]
    if article.label:
        meta.append(f"labelled “{esc(article.label)}” by the data set")
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
        f'<p class="nd-meta">{" · ".join(meta)}</p>{_also_html(source.also_published_by if source else ())}'
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


def render_archive(info: IndexStatus | None) -> str:
    """The archive overview (from the index manifest), or how to build an index when there is none."""
    if info is None:
        return (
            '<section class="nd-reader nd-archive" aria-label="Archive"><div class="nd-reader-bar">'
            '<span class="nd-reader-kicker">The archive</span></div><p class="nd-hint">No index yet: what the archive holds '
            "will show here once one is built.</p></section>"
        )
    publishers = info.publishers
    shown = "".join(f"<li>{esc(p)}</li>" for p in publishers[:24])
    more = f"<li>and {len(publishers) - 24} more</li>" if len(publishers) > 24 else ""
    dates = f"{nice_date(info.date_min)} – {nice_date(info.date_max)}" if info.date_min else "no dated articles"
    undated = f" · {info.undated} undated" if info.undated else ""
    model_note = "" if info.model_matches_settings else ' <span class="nd-warn">(not the configured model: rebuild)</span>'
    stats = [("Articles", f"{info.articles:,}"), ("Passages", f"{info.chunks:,}"), ("Publishers", f"{len(publishers):,}")]
    tiles = "".join(f'<div class="nd-stat"><span class="nd-stat-v">{v}</span><span class="nd-stat-k">{k}</span></div>' for k, v in stats)
    return (
        '<section class="nd-reader nd-archive" aria-label="Archive">'
        '<div class="nd-reader-bar"><span class="nd-reader-kicker">The archive</span></div>'
        f'<div class="nd-stats">{tiles}</div>'
        f'<dl class="nd-facts"><dt>Dates</dt><dd>{esc(dates)}{esc(undated)}</dd>'
        f"<dt>Model</dt><dd>{esc(info.model)}{model_note}</dd>"
        f"<dt>Last rebuild</dt><dd>{esc(_built_at(info.built_at))}</dd></dl>"
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
        f"<p>Build one with <code>{esc(REBUILD_COMMAND)}</code>, for example "
        f"<code>{esc(REBUILD_COMMAND.replace('PATH', 'seeds/'))}</code>, then reload this page.</p></section>"
    )


def render_summary(info: IndexStatus | None) -> str:
    """One line under the title: what the archive holds."""
    if info is None:
        return '<span class="nd-summary nd-warn">No index</span>'
    bits = [f"{info.articles:,} articles", f"{len(info.publishers):,} publishers"]
    if info.date_min:
        bits.append(f"{nice_date(info.date_min)} – {nice_date(info.date_max)}")
    return f'<span class="nd-summary">{esc(" · ".join(bits))}</span>'


def render_header(info: IndexStatus | None, loading: bool = False) -> str:
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
