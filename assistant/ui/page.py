"""The page: its layout, the wiring of every event to a ``Chat`` handler, and ``build_app``.

The stylesheet and the components' scripts are package files under ``static/``; each script is
the body Gradio runs when its component loads (``element``, ``trigger`` and ``watch`` in scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import gradio as gr

from ..chat import Newsdesk
from ..config import Settings
from .handlers import MAX_QUESTION_CHARS, AnswerStream, Chat
from .html import render_filters_line, render_header, render_transcript

QUEUE_MAX_SIZE = 64  # questions waiting beyond this are refused with "too busy"
ASK_CONCURRENCY = 4  # answers computed at once (UI and API share this limit)


def static_text(name: str) -> str:
    """A file of ``static/`` (the stylesheet, a component's script)."""
    return files("assistant.ui").joinpath("static", name).read_text(encoding="utf-8")


STYLESHEET = static_text("style.css")  # Gradio's theme variables, so light and dark both work
ON_TRANSCRIPT = static_text("transcript.js")  # a clicked quote or citation opens its article; new turns scroll into view
ON_READER = static_text("reader.js")  # an opened article scrolls to its highlighted quote; Close
ON_EXAMPLES = static_text("examples.js")  # a clicked example question is asked
ON_HEADER = static_text("header.js")  # the light/dark switch


@dataclass(frozen=True)
class Page:
    header: gr.HTML
    banner: gr.HTML
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
            banner = gr.HTML("", elem_id="nd-banner", apply_default_css=False)  # which generation answers, when not the live one
            transcript = gr.HTML(render_transcript([]), js_on_load=ON_TRANSCRIPT, elem_id="nd-transcript", apply_default_css=False)
            examples = gr.HTML("", js_on_load=ON_EXAMPLES, elem_id="nd-examples", apply_default_css=False)
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
    return Page(header, banner, transcript, examples, scope_line, filters, publishers, since, until, clear_filters,
                box, ask, stop, clear, reader, gr.State([]))


def build_app(newsdesk: Newsdesk, settings: Settings, *, stream: AnswerStream | None = None) -> gr.Blocks:
    """The chat, built without launching. Launch it with ``server.launch`` (theme, stylesheet and limits apply there)."""
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
    ask_in, ask_out = [p.box, p.turns, *filters_in], [p.box, p.transcript, p.turns, p.examples, p.ask, p.stop, p.banner]
    limit: dict[str, Any] = {"concurrency_limit": ASK_CONCURRENCY, "concurrency_id": "answering"}
    submitted = p.box.submit(chat.ask, ask_in, ask_out, **private("submit", queue=True), **limit)
    clicked = p.ask.click(chat.ask, ask_in, ask_out, **private("ask", queue=True), **limit)
    example = p.examples.click(chat.pick_example, None, p.box, **private("example")).then(
        chat.ask, ask_in, ask_out, **private("example_ask", queue=True), **limit
    )
    running = [submitted, clicked, example]
    p.stop.click(chat.stop, p.turns, [p.transcript, p.turns, p.ask, p.stop], cancels=running, **private("stop"))
    p.clear.click(chat.clear, None, [p.transcript, p.turns, p.reader, p.examples, p.ask, p.stop, p.banner], cancels=running,
                  **private("clear"))
    p.transcript.click(chat.open_source, p.turns, p.reader, **private("open_source"))
    p.reader.click(chat.open_source, p.turns, p.reader, **private("reader"))
    gr.on([p.publishers.change, p.since.change, p.until.change], chat.scope, filters_in, p.scope_line,
          trigger_mode="always_last", **private("scope"))
    p.clear_filters.click(None, None, filters_in, js="() => [[], '', '']", **private("clear_filters"))
    demo.load(chat.page, None, [p.header, p.reader, p.transcript, p.examples, p.publishers, p.box, p.ask, p.banner],
              **private("load"))
