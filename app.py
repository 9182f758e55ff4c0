"""Serve the newsdesk chat on 127.0.0.1 (builds the index from seeds/ on first start unless --no-build).

The composition root: settings → Newsdesk → the index started → the chat built → served.
"""

import logging
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant import ui  # noqa: E402
from assistant.chat import Newsdesk  # noqa: E402
from assistant.config import Settings, redact, redact_logs  # noqa: E402
from assistant.errors import NewsdeskError  # noqa: E402
from assistant.indexing import ensure_index  # noqa: E402

log = logging.getLogger("newsdesk")


def start_index(settings: Settings, newsdesk: Newsdesk) -> None:
    """Build the index on a first start, then open it so that the first question does not wait.
    A failure is logged and the chat starts anyway: its page says how to build an index."""
    try:
        ensure_index(settings, newsdesk.embedder)
        newsdesk.index  # noqa: B018 - opening it is the point
    except NewsdeskError as exc:
        log.error("%s", exc)


def main(argv: list[str]) -> None:
    """Serve the chat; a setting that cannot be used (a login with only one of user and password)
    stops it at once with one sentence and the error's exit code, before the index is built."""
    redact_logs()
    try:
        settings = Settings.from_env()
        redact_logs(settings)
        settings.login()
        newsdesk = Newsdesk(settings)
        if "--no-build" not in argv:
            start_index(settings, newsdesk)
        ui.launch(ui.build_app(newsdesk, settings), settings)
    except NewsdeskError as exc:
        sys.stderr.write(f"error: {redact(str(exc))}\n")
        raise SystemExit(exc.exit_code) from None


if __name__ == "__main__":
    main(sys.argv[1:])
