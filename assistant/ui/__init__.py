"""The browser chat (Gradio). Gradio is imported only in this package and in ``app.py``.

- ``handlers``: the page's event handlers (``Chat``), callable without a browser;
- ``page``: the layout and its wiring; ``build_app`` returns the Blocks without launching;
- ``html``: the HTML renderings (no Gradio there);
- ``server``: closed routes, security headers, theme, ``launch`` and ``serve_chat``;
- ``static/``: the stylesheet and the components' scripts.

The index is started by the caller (``app.py``, ``newsdesk serve``), never from here: a page
without an index says how to build one.
"""

from .handlers import AnswerStream, Chat, example_questions, progressive, title_questions
from .page import build_app
from .server import launch, serve_chat

__all__ = ["AnswerStream", "Chat", "build_app", "example_questions", "launch", "progressive", "serve_chat", "title_questions"]
