"""Fakes for what cannot run here: a hosted LLM endpoint. Registered the way the real writer is
(``Newsdesk(..., writer=...)``), so everything around it is the real code."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from assistant.generation import Writer


class ScriptedWriter(Writer):
    """Streams a fixed text word by word; can also stall or fail like an endpoint."""

    def __init__(self, text: str, delay: float = 0.0, error: Exception | None = None) -> None:
        self.text = text
        self.delay = delay
        self.error = error
        self.prompts: list[tuple[str, str]] = []

    def generate(self, system: str, user: str) -> Iterator[str]:
        self.prompts.append((system, user))
        if self.error is not None:
            raise self.error
        for piece in re.findall(r"\s*\S+", self.text):
            if self.delay:
                time.sleep(self.delay)
            yield piece
