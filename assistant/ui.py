"""The browser chat (Gradio). Gradio is imported only here and in ``app.py``."""

from __future__ import annotations

import html
import logging
import os

import gradio as gr

from .chat import Newsdesk
from .config import Settings
from .errors import IndexMissingError, NewsdeskError
from .records import Answer

log = logging.getLogger(__name__)


def escape_text(text: str) -> str:
    """Article text as inert chat content: HTML escaped, markdown images and links disarmed."""
    escaped = html.escape(text, quote=True)
    return escaped.replace("![", "!&#91;").replace("](", "&#93;(").replace("`", "&#96;")


def render_answer(answer: Answer) -> str:
    parts = [escape_text(answer.text)]
    listed = answer.sources or answer.nearest
    if listed:
        parts.append("**Sources**" if answer.sources else "**Nearest articles**")
        for s in listed:
            bits = [escape_text(s.title or "(untitled)"), escape_text(s.publisher or "unknown publisher"), escape_text(s.published or "date unknown")]
            if s.author:
                bits.append(escape_text(s.author))
            parts.append(f"[{s.number}] " + " — ".join(bits))
    return "\n\n".join(parts)


def build_app(newsdesk: Newsdesk) -> gr.Blocks:
    """The chat, built without launching."""

    def respond(message: str, history: list[dict[str, str]]) -> tuple[str, list[dict[str, str]]]:
        earlier = [m["content"] for m in history if m.get("role") == "user" and isinstance(m.get("content"), str)]
        try:
            reply = render_answer(newsdesk.ask(message, history=earlier))
        except NewsdeskError as exc:
            reply = escape_text(str(exc))
        except Exception:  # never show a stack trace or a path to the reader
            log.exception("question failed")
            reply = "Something went wrong while answering; the error was logged."
        return "", [*history, {"role": "user", "content": escape_text(message)}, {"role": "assistant", "content": reply}]

    with gr.Blocks(title="newsdesk", analytics_enabled=False) as demo:
        gr.Markdown("## newsdesk — ask the news archive")
        chatbot = gr.Chatbot(label="Conversation", sanitize_html=True, render_markdown=True)
        box = gr.Textbox(label="Question", placeholder="Ask about the archive…")
        box.submit(respond, [box, chatbot], [box, chatbot], concurrency_limit=4)
    return demo


def ensure_index(settings: Settings, newsdesk: Newsdesk) -> None:
    """Build the index from the default archive on first start."""
    try:
        newsdesk.index  # noqa: B018 - opening it is the check
    except IndexMissingError:
        from .indexing import rebuild

        log.warning("No index in %s: building it from %s", settings.index_dir, settings.archive)
        rebuild([settings.archive], settings, embedder=newsdesk.embedder)


def serve(settings: Settings) -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    newsdesk = Newsdesk(settings)
    ensure_index(settings, newsdesk)
    demo = build_app(newsdesk)
    auth = (settings.auth_user, settings.auth_password) if settings.auth_user and settings.auth_password else None
    demo.queue(max_size=64, default_concurrency_limit=4).launch(
        server_name=settings.host, server_port=settings.port, share=False, auth=auth, max_file_size="1mb", show_error=False
    )
