"""The assistant: one entry point that turns a question (and its conversation) into an Answer.

Every front end — the CLI, the chat UI and evaluation — calls ``Newsdesk.ask``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from .answering import compose
from .config import Settings
from .embedding import Embedder, make_embedder
from .records import Answer, Filters
from .retrieval import resolve_publishers, retrieve
from .store import Index, IndexPaths, open_index


class Newsdesk:
    """Holds the encoder and the live index; reopens the index when a rebuild publishes a new one."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        self._paths = IndexPaths(settings.index_dir)
        self._index: Index | None = None
        self._generation: str | None = None
        self._lock = threading.Lock()

    @property
    def index(self) -> Index:
        """The live generation, reopened if ``LIVE`` moved since the last call."""
        live = self._paths.live_generation()
        name = live.name if live else None
        with self._lock:
            if self._index is None or name != self._generation:
                self._index = open_index(self.settings.index_dir, self.embedder)
                self._generation = name
            return self._index

    def ask(self, question: str, history: Sequence[str] = (), filters: Filters = Filters()) -> Answer:
        started = time.perf_counter()
        index = self.index
        query = question.strip()
        if filters.publishers:
            filters = Filters(resolve_publishers(index, filters.publishers), filters.authors, filters.since, filters.until)
        retrieval = retrieve(index, query, filters, self.settings)
        answer = compose(question, index, retrieval, self.settings, searched_query=query)
        timings = {k: round(v, 4) for k, v in retrieval.timings.items()}
        timings["total"] = round(time.perf_counter() - started, 4)
        answer.timings.update(timings)
        return answer
