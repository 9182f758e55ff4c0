"""The browser chat (Gradio). Gradio is imported only here and in ``app.py``.

``build_app`` returns the Blocks without launching; ``launch`` serves them with the options this
project relies on (theme with system fonts, analytics and monitoring off, upload and file routes
closed, a content security policy, queue limits, optional login); ``serve`` is ``app.py``'s entry.

Answers stream: an ``AnswerStream`` yields partial answer text (str) and finally the ``Answer``.
The default one (``progressive``) shows the offline answer lead quote first, then the rest; an
LLM writer that streams tokens can be plugged in as another ``AnswerStream``.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr

from .chat import Newsdesk
from .config import Settings
from .errors import IndexDamagedError, IndexMismatchError, IndexMissingError, NewsdeskError
from .htmlview import (
    CSS,
    Turn,
    render_archive,
    render_article,
    render_examples,
    render_filters_line,
    render_header,
    render_no_index,
    render_reader_message,
    render_transcript,
)
from .records import Answer, Filters, Source, answer_to_dict
from .reporting import status
from .store import ChromaUnavailableError, IndexWriteError

log = logging.getLogger(__name__)

QUEUE_MAX_SIZE = 64  # questions waiting beyond this are refused with "too busy"
ASK_CONCURRENCY = 4  # answers computed at once (UI and API share this limit)
MAX_QUESTION_CHARS = 2000
MAX_HISTORY = 10  # earlier questions sent with a follow-up
EXAMPLES_SHOWN = 4
SYSTEM_FONTS = ("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif")
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace")

AnswerStream = Callable[[str, Sequence[str], Filters], Iterator[str | Answer]]


def progressive(newsdesk: Newsdesk) -> AnswerStream:
    """The default stream: ``Newsdesk.stream`` (checked text as it grows, then the Answer)."""
    return newsdesk.stream


# ---- what the handlers need from the request ------------------------------------------------


class InputError(NewsdeskError):
    """A question or filter the reader has to correct."""


def parse_filters(publishers: Sequence[str] | None, since: str | None, until: str | None) -> Filters:
    """The filter inputs as ``Filters``; a date that is not YYYY-MM-DD is refused with a message."""
    start, end = _parse_day(since, "From"), _parse_day(until, "Until")
    if start and end and start > end:
        raise InputError(f"The date range is empty: {start.isoformat()} is after {end.isoformat()}.")
    chosen = tuple(dict.fromkeys(str(p) for p in (publishers or []) if str(p).strip()))
    return Filters(publishers=chosen, since=start, until=end)


def _parse_day(text: str | None, label: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{label} date “{text[:40]}” is not a date; use YYYY-MM-DD.") from None


def user_message(exc: BaseException) -> str:
    """A short message for the reader: never a stack trace or a path."""
    if isinstance(exc, IndexMissingError):
        return "No index — build one with: newsdesk index rebuild PATH, then reload this page."
    if isinstance(exc, IndexMismatchError):
        return "The index was built with a different embedding model. Rebuild it with: newsdesk index rebuild PATH"
    if isinstance(exc, IndexDamagedError):
        return "The index is damaged. Rebuild it with: newsdesk index rebuild PATH"
    if isinstance(exc, ChromaUnavailableError):
        return "The vector store (Chroma server) cannot be reached right now; try again shortly."
    if isinstance(exc, IndexWriteError):
        return "The index could not be written (disk full or read-only); the live index is unchanged."
    if isinstance(exc, NewsdeskError):
        return re.sub(r"(?:[A-Za-z]:)?(?:[\\/][\w.~-]+){2,}[\\/]?", "…", str(exc))[:300]
    return "Something went wrong while answering; the error was logged."


def example_questions(info: dict[str, Any], limit: int = EXAMPLES_SHOWN) -> list[str]:
    """Questions kept beside the archive: ``questions.jsonl`` in a folder the index was built from."""
    for source in info.get("sources") or []:
        folder = Path(source) if Path(source).is_dir() else Path(source).parent
        found = _read_questions(folder / "questions.jsonl")
        if found:
            short = [q for q in found if len(q) <= 110] or found
            return short[:limit]
    return []


def title_questions(titles: Sequence[str], limit: int = EXAMPLES_SHOWN) -> list[str]:
    """Example questions made from article titles, when the archive keeps no questions."""
    return [f"What does the archive report about “{t}”?" for t in titles if t.strip()][:limit]


def _read_questions(path: Path) -> list[str]:
    if not path.is_file():
        return []
    questions: list[str] = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("question"), str) and record["question"].strip():
                questions.append(record["question"].strip())
    return list(dict.fromkeys(questions))


# ---- handlers ---------------------------------------------------------------------------------


class Chat:
    """The page's event handlers. Plain methods, so tests can call them without a browser."""

    def __init__(self, newsdesk: Newsdesk, settings: Settings, stream: AnswerStream | None = None) -> None:
        self.newsdesk = newsdesk
        self.settings = settings
        self.stream = stream or progressive(newsdesk)

    def archive_info(self) -> dict[str, Any] | None:
        try:
            return status(self.settings)
        except NewsdeskError:
            return None

    def page(self) -> tuple[Any, ...]:
        """On page load: header, archive panel, conversation, examples, publisher choices, composer."""
        info = self.archive_info()
        if info is None:
            return (render_header(None), render_archive(None), render_no_index(), gr.update(value="", visible=False),
                    gr.update(choices=[], value=[]), gr.update(interactive=False, placeholder="No index to ask yet"),
                    gr.update(interactive=False))
        examples = render_examples(example_questions(info) or title_questions(self._titles()))
        return (render_header(info), render_archive(info), render_transcript([]), gr.update(value=examples, visible=bool(examples)),
                gr.update(choices=list(info.get("publishers") or [])), gr.update(interactive=True), gr.update(interactive=True))

    def _titles(self) -> list[str]:
        try:
            return [a.title for a in itertools.islice(self.newsdesk.index.articles.stream(), 50)]
        except NewsdeskError:
            return []

    def ask(self, question: str, turns: list[Turn], publishers: list[str], since: str, until: str) -> Iterator[tuple[Any, ...]]:
        """Outputs: question box, conversation, turns, examples, ask button, stop button."""
        question = (question or "").strip()
        turns = list(turns or [])
        if not question:
            yield (gr.skip(),) * 6
            return
        try:
            if len(question) > MAX_QUESTION_CHARS:
                raise InputError(f"Questions are limited to {MAX_QUESTION_CHARS:,} characters.")
            filters = parse_filters(publishers, since, until)
        except InputError as exc:
            failed = [*turns, Turn(question, Filters(), "error", message=str(exc))]
            yield question, render_transcript(failed), failed, gr.update(visible=False), *_buttons(busy=False)
            return
        history = [t.question for t in turns if t.status == "done"][-MAX_HISTORY:]
        pending = Turn(question, filters)
        yield "", render_transcript([*turns, pending]), [*turns, pending], gr.update(visible=False), *_buttons(busy=True)
        for turn in self._answer(pending, history):
            done = turn.status in ("done", "error")
            yield "", render_transcript([*turns, turn]), [*turns, turn], gr.skip(), *_buttons(busy=not done)

    def _answer(self, turn: Turn, history: Sequence[str]) -> Iterator[Turn]:
        """The turn as its answer streams in; the last one is done (or failed with a short message)."""
        try:
            for item in self.stream(turn.question, history, turn.filters):
                if isinstance(item, Answer):
                    yield replace(turn, status="done", answer=item, partial="")
                    return
                turn = replace(turn, status="writing", partial=item)
                yield turn
            raise RuntimeError("the answer stream ended without an answer")
        except Exception as exc:  # shown as a short message; logged with its trace
            if not isinstance(exc, NewsdeskError):
                log.exception("question failed")
            yield replace(turn, status="error", message=user_message(exc))

    def stop(self, turns: list[Turn]) -> tuple[Any, ...]:
        turns = [replace(t, status="stopped") if t.status in ("searching", "writing") else t for t in turns or []]
        return render_transcript(turns), turns, *_buttons(busy=False)

    def clear(self) -> tuple[Any, ...]:
        info = self.archive_info()
        return render_transcript([]), [], render_archive(info), gr.update(visible=info is not None), *_buttons(busy=False)

    def open_source(self, turns: list[Turn], evt: gr.EventData) -> str:
        """A quote card or citation was clicked: the article with the quoted passage highlighted."""
        data = evt._data if isinstance(getattr(evt, "_data", None), dict) else {}
        if data.get("action") == "close":
            return render_archive(self.archive_info())
        article_id = str(data.get("article") or "")
        try:
            article = self.newsdesk.index.articles.get(article_id)
        except NewsdeskError as exc:
            return render_reader_message(user_message(exc))
        if article is None:
            return render_reader_message("This article is no longer in the archive (the index was rebuilt). Ask again.")
        start, end = _as_int(data.get("start")), _as_int(data.get("end"))
        span = (start, end) if 0 <= start < end <= len(article.body) else None
        return render_article(article, span, _find_source(turns or [], article_id, _as_int(data.get("turn"))))

    def pick_example(self, evt: gr.EventData) -> str:
        data = evt._data if isinstance(getattr(evt, "_data", None), dict) else {}
        return str(data.get("question") or "")[:MAX_QUESTION_CHARS]

    def scope(self, publishers: list[str], since: str, until: str) -> str:
        """The line above the question box that says what the next question will search."""
        try:
            return render_filters_line(parse_filters(publishers, since, until))
        except InputError as exc:
            return render_filters_line(None, str(exc))

    def ask_api(
        self, question: str, history: list[str] | None = None, publishers: list[str] | None = None, since: str = "", until: str = ""
    ) -> dict[str, Any]:
        """One answer as data: ``html`` (as the chat renders it), ``answer`` (or None) and ``error`` (or None)."""
        try:
            if not question.strip() or len(question) > MAX_QUESTION_CHARS:
                raise InputError(f"Ask a question of 1 to {MAX_QUESTION_CHARS:,} characters.")
            filters = parse_filters(publishers, since, until)
            earlier = [str(q)[:MAX_QUESTION_CHARS] for q in (history or [])][-MAX_HISTORY:]
            answer = self.newsdesk.ask(question.strip(), history=earlier, filters=filters)
        except Exception as exc:
            if not isinstance(exc, NewsdeskError):
                log.exception("API question failed")
            message = user_message(exc)
            return {"html": render_transcript([Turn(question, Filters(), "error", message=message)]), "answer": None, "error": message}
        turn = Turn(question.strip(), filters, "done", answer=answer)
        return {"html": render_transcript([turn]), "answer": answer_to_dict(answer), "error": None}


def _buttons(busy: bool) -> tuple[Any, Any]:
    return gr.update(visible=not busy), gr.update(visible=busy)


def _as_int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return -1


def _find_source(turns: Sequence[Turn], article_id: str, turn_number: int) -> Source | None:
    """The citation of ``article_id`` in the clicked turn (or, failing that, the latest turn citing it)."""
    ordered = list(enumerate(turns, start=1))
    ordered.sort(key=lambda pair: (pair[0] != turn_number, -pair[0]))
    for _, turn in ordered:
        if turn.answer is not None:
            for s in (*turn.answer.sources, *turn.answer.nearest):
                if s.article_id == article_id:
                    return s
    return None


# ---- the page ---------------------------------------------------------------------------------

ON_CLICK_SOURCE = """
const reduce = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
let seen = element.querySelectorAll('article.nd-turn').length;
watch('value', () => {
  const turns = element.querySelectorAll('article.nd-turn');
  if (turns.length > seen) turns[turns.length - 1].scrollIntoView({block: 'start', behavior: reduce ? 'auto' : 'smooth'});
  seen = turns.length;
});
element.addEventListener('click', (event) => {
  const el = event.target.closest('[data-article]');
  if (!el || !element.contains(el)) return;
  element.querySelectorAll('.nd-card.is-open').forEach((c) => c.classList.remove('is-open'));
  if (el.classList.contains('nd-card')) el.classList.add('is-open');
  trigger('click', {article: el.dataset.article, start: Number(el.dataset.start), end: Number(el.dataset.end),
                    n: Number(el.dataset.n), turn: Number(el.dataset.turn || 0)});
});
"""

ON_READER = """
const reduce = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
const reveal = () => {
  let tries = 0;
  const go = () => {
    const panel = element.querySelector('.nd-reader');
    const title = element.querySelector('#nd-article-title');
    if (!panel || !title) return;
    if (panel.getClientRects().length === 0 && tries++ < 40) { setTimeout(go, 50); return; }
    const mark = element.querySelector('#nd-mark');
    const behavior = reduce ? 'auto' : 'smooth';
    title.focus({preventScroll: true});
    if (panel.scrollHeight > panel.clientHeight + 4) {
      let offset = 0;
      if (mark) {
        const head = element.querySelector('.nd-article-head');
        const headHeight = head ? head.offsetHeight : 0;
        const room = panel.clientHeight - headHeight;
        const top = mark.getBoundingClientRect().top - panel.getBoundingClientRect().top + panel.scrollTop;
        offset = top - headHeight - Math.max(16, (room - mark.getBoundingClientRect().height) / 3);
      }
      panel.scrollTo({top: Math.max(0, offset), behavior});
      const r = panel.getBoundingClientRect();
      if (r.top < 0 || r.bottom > window.innerHeight) panel.scrollIntoView({block: 'nearest', behavior});
    } else {
      (mark || title).scrollIntoView({block: mark ? 'center' : 'start', behavior});
    }
  };
  setTimeout(go, 30);
};
watch('value', reveal);
element.addEventListener('click', (event) => {
  if (event.target.closest('[data-action="close"]')) trigger('click', {action: 'close'});
});
"""

ON_EXAMPLE = """
element.addEventListener('click', (event) => {
  const el = event.target.closest('[data-q]');
  if (el && element.contains(el)) trigger('click', {question: el.dataset.q});
});
"""

ON_HEADER = """
element.addEventListener('click', (event) => {
  if (event.target.closest('.nd-theme')) document.body.classList.toggle('dark');
});
"""


@dataclass
class Page:
    header: gr.HTML
    transcript: gr.HTML
    examples: gr.HTML
    scope_line: gr.HTML
    filters: gr.Accordion
    publishers: gr.Dropdown
    since: gr.Textbox
    until: gr.Textbox
    clear_filters: gr.Button
    box: gr.Textbox
    ask: gr.Button
    stop: gr.Button
    clear: gr.Button
    reader: gr.HTML
    turns: gr.State


def _layout() -> Page:
    header = gr.HTML(render_header(None, loading=True), js_on_load=ON_HEADER, elem_id="nd-header", apply_default_css=False)
    with gr.Row(equal_height=False, elem_id="nd-main"):
        with gr.Column(scale=6, min_width=340, elem_id="nd-chat"):
            transcript = gr.HTML(render_transcript([]), js_on_load=ON_CLICK_SOURCE, elem_id="nd-transcript", apply_default_css=False)
            examples = gr.HTML("", js_on_load=ON_EXAMPLE, elem_id="nd-examples", apply_default_css=False)
            with gr.Column(elem_id="nd-dock"):
                scope_line = gr.HTML(render_filters_line(None), js_on_load=None, elem_id="nd-scope", apply_default_css=False)
                with gr.Row(elem_id="nd-composer", equal_height=True):
                    box = gr.Textbox(show_label=False, placeholder="Ask about the archive…", lines=1, max_lines=4, scale=8,
                                     autofocus=True, max_length=MAX_QUESTION_CHARS, elem_id="nd-question", container=False)
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=72, elem_id="nd-ask")
                    stop = gr.Button("Stop", variant="stop", scale=1, min_width=72, visible=False, elem_id="nd-stop")
            with gr.Accordion("Filters: publishers and dates", open=False, elem_id="nd-filters") as filters:
                publishers = gr.Dropdown(label="Publishers", choices=[], value=[], multiselect=True, elem_id="nd-publishers",
                                         info="Only these publishers' articles are searched.")
                with gr.Row():
                    since = gr.Textbox(label="From", placeholder="YYYY-MM-DD", elem_id="nd-since", max_length=10)
                    until = gr.Textbox(label="Until", placeholder="YYYY-MM-DD", elem_id="nd-until", max_length=10)
                clear_filters = gr.Button("Clear filters", size="sm", variant="secondary", elem_id="nd-clear-filters")
            clear = gr.Button("Clear conversation", size="sm", variant="secondary", elem_id="nd-clear")
        with gr.Column(scale=5, min_width=320, elem_id="nd-side"):
            reader = gr.HTML("", js_on_load=ON_READER, elem_id="nd-reader", apply_default_css=False)
    return Page(header, transcript, examples, scope_line, filters, publishers, since, until, clear_filters,
                box, ask, stop, clear, reader, gr.State([]))


def build_app(newsdesk: Newsdesk, settings: Settings, *, stream: AnswerStream | None = None) -> gr.Blocks:
    """The chat, built without launching. Launch it with ``launch`` (theme, CSS and limits apply there)."""
    chat = Chat(newsdesk, settings, stream)
    with gr.Blocks(title="newsdesk", analytics_enabled=False, fill_width=True) as demo:
        p = _layout()
        _wire(p, chat, demo)
        gr.api(chat.ask_api, api_name="ask", concurrency_limit=ASK_CONCURRENCY, concurrency_id="answering")
    demo.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=ASK_CONCURRENCY)
    return demo


def _wire(p: Page, chat: Chat, demo: gr.Blocks) -> None:
    """Every page event is private (not in the API, not callable by API clients); only ``ask`` is public."""

    def private(name: str, queue: bool = False) -> dict[str, Any]:
        """Quick handlers skip the queue (it adds latency); answering is queued and limited."""
        return {"api_visibility": "private", "show_progress": "hidden", "api_name": f"page_{name}", "queue": queue}

    filters_in = [p.publishers, p.since, p.until]
    ask_in, ask_out = [p.box, p.turns, *filters_in], [p.box, p.transcript, p.turns, p.examples, p.ask, p.stop]
    limit: dict[str, Any] = {"concurrency_limit": ASK_CONCURRENCY, "concurrency_id": "answering"}
    submitted = p.box.submit(chat.ask, ask_in, ask_out, **private("submit", queue=True), **limit)
    clicked = p.ask.click(chat.ask, ask_in, ask_out, **private("ask", queue=True), **limit)
    example = p.examples.click(chat.pick_example, None, p.box, **private("example")).then(
        chat.ask, ask_in, ask_out, **private("example_ask", queue=True), **limit
    )
    running = [submitted, clicked, example]
    p.stop.click(chat.stop, p.turns, [p.transcript, p.turns, p.ask, p.stop], cancels=running, **private("stop"))
    p.clear.click(chat.clear, None, [p.transcript, p.turns, p.reader, p.examples, p.ask, p.stop], cancels=running,
                  **private("clear"))
    p.transcript.click(chat.open_source, p.turns, p.reader, **private("open_source"))
    p.reader.click(chat.open_source, p.turns, p.reader, **private("reader"))
    gr.on([p.publishers.change, p.since.change, p.until.change], chat.scope, filters_in, p.scope_line,
          trigger_mode="always_last", **private("scope"))
    p.clear_filters.click(None, None, filters_in, js="() => [[], '', '']", **private("clear_filters"))
    demo.load(chat.page, None, [p.header, p.reader, p.transcript, p.examples, p.publishers, p.box, p.ask], **private("load"))


# ---- serving ----------------------------------------------------------------------------------

# Routes Gradio always mounts that this app never needs: uploads, file serving, proxying, media
# streams, run history, monitoring, MCP. They answer 404.
CLOSED_ROUTES = re.compile(
    r"^/(?:gradio_api/)?(?:upload|upload_progress|file[=/]|proxy=|process_recording|stream/|runs|run-history|"
    r"vibe|mcp|dev/|monitoring|custom_component)"
)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
    "frame-src 'none'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)


class ClosedRoutes:
    """ASGI middleware: 404 for the closed routes; security headers on every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if CLOSED_ROUTES.match(path):
            from starlette.responses import PlainTextResponse

            await PlainTextResponse("Not found", status_code=404)(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def theme() -> gr.themes.Base:
    return gr.themes.Default(
        primary_hue=gr.themes.colors.indigo,
        neutral_hue=gr.themes.colors.slate,
        font=list(SYSTEM_FONTS),
        font_mono=list(MONO_FONTS),
        radius_size=gr.themes.sizes.radius_md,
    )


def launch(demo: gr.Blocks, settings: Settings, *, block: bool = True) -> str:
    """Serve ``demo`` on ``settings.host:settings.port``; returns its local URL (when ``block`` is False)."""
    from starlette.middleware import Middleware

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    auth = (settings.auth_user, settings.auth_password) if settings.auth_user and settings.auth_password else None
    _, url, _ = demo.launch(
        server_name=settings.host, server_port=settings.port, share=False, auth=auth, max_file_size="1mb",
        show_error=False, quiet=block is False, prevent_thread_lock=not block, footer_links=[], enable_monitoring=False,
        run_history=False, mcp_server=False, pwa=False, ssr_mode=False, strict_cors=True,
        app_kwargs={"middleware": [Middleware(ClosedRoutes)]}, theme=theme(), css=CSS, favicon_path=None,
    )
    return str(url)


def ensure_index(settings: Settings, newsdesk: Newsdesk) -> None:
    """Build the index from ``settings.archive`` on first start. A failure is logged; the page then
    shows how to build one."""
    try:
        newsdesk.index  # noqa: B018 - opening it is the check
    except IndexMissingError:
        from .indexing import rebuild

        log.warning("No index in %s: building it from %s", settings.index_dir, settings.archive)
        try:
            rebuild([settings.archive], settings, embedder=newsdesk.embedder)
        except NewsdeskError as exc:
            log.error("Could not build the index: %s", exc)
    except NewsdeskError as exc:
        log.error("%s", exc)


def serve(settings: Settings, *, build_index: bool = True) -> None:
    """Serve the chat; with ``build_index`` an empty index directory is first built from the archive."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    newsdesk = Newsdesk(settings)
    if build_index:
        ensure_index(settings, newsdesk)
    launch(build_app(newsdesk, settings), settings)
