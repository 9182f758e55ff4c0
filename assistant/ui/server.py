"""Serving the chat: the options this project relies on (theme with system fonts, analytics and
monitoring off, upload and file routes closed, a content security policy, optional login).

Before serving, a login with only one of user and password is refused (``ConfigError``), an
address beyond this machine is warned about (saying whether login is on), and every log line of
the process is redacted (``config.redact_logs``).

``launch`` serves built Blocks; ``serve_chat`` builds and serves the chat of a ready ``Newsdesk``
(the index is started before, by the caller: ``app.py`` or ``newsdesk serve``).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
from typing import Any

import gradio as gr

from ..chat import Newsdesk
from ..config import Settings, env_name, redact_logs
from .page import STYLESHEET, build_app

log = logging.getLogger("newsdesk")

SYSTEM_FONTS = ("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif")
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace")

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


def chat_theme() -> gr.themes.Base:
    return gr.themes.Default(
        primary_hue=gr.themes.colors.indigo,
        neutral_hue=gr.themes.colors.slate,
        font=list(SYSTEM_FONTS),
        font_mono=list(MONO_FONTS),
        radius_size=gr.themes.sizes.radius_md,
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only: a loopback address, or a name that
    resolves to loopback addresses only (a name that does not resolve counts as not loopback)."""
    name = host.strip().strip("[]")
    if not name:
        return False
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        found = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except (OSError, UnicodeError):
        return False
    return bool(found) and all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in found)


def exposure_warning(settings: Settings) -> str | None:
    """The warning for serving beyond this machine (None on a loopback address), saying whether login is on."""
    host = settings.host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"  # Gradio's choice for an empty one
    if is_loopback(host):
        return None
    where = f"{host}:{settings.port}"
    if settings.login():
        login = f"login is on ({env_name('auth_user')} and {env_name('auth_password')})."
    else:
        login = (f"login is OFF: anyone who can reach this address can use the chat. Set {env_name('auth_user')} "
                 f"and {env_name('auth_password')} to require one, or bind {env_name('host')}=127.0.0.1.")
    return f"Warning: the chat is served on {where}, which is not a loopback address, so other machines can reach it; {login}"


def launch(demo: gr.Blocks, settings: Settings, *, block: bool = True) -> str:
    """Serve ``demo`` on ``settings.host:settings.port``; returns its local URL (when ``block`` is False).
    A login with only one of user and password is a ``ConfigError``, before anything is served."""
    from starlette.middleware import Middleware

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    redact_logs(settings)
    auth = settings.login()
    warning = exposure_warning(settings)
    if warning:
        log.warning("%s", warning)
    _, url, _ = demo.launch(
        server_name=settings.host, server_port=settings.port, share=False, auth=auth, max_file_size="1mb",
        show_error=False, quiet=block is False, prevent_thread_lock=not block, footer_links=[], enable_monitoring=False,
        run_history=False, mcp_server=False, pwa=False, ssr_mode=False, strict_cors=True,
        app_kwargs={"middleware": [Middleware(ClosedRoutes)]}, theme=chat_theme(), css=STYLESHEET, favicon_path=None,
    )
    return str(url)


def serve_chat(newsdesk: Newsdesk, settings: Settings) -> None:
    """Build the chat of ``newsdesk`` and serve it until interrupted."""
    launch(build_app(newsdesk, settings), settings)
