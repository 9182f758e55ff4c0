"""The assistant: one entry point that turns a question (and its conversation) into an Answer.

Every front end — the CLI, the chat UI and evaluation — calls ``Newsdesk.ask``. Follow-up
questions are rewritten into a standalone search offline; periods named in the question become
date filters resolved against the archive's newest article.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date

from .answering import answer as decide
from .config import Settings
from .embedding import Embedder, make_embedder
from .errors import IndexDamagedError, NewsdeskError
from .generation import Writer, make_writer
from .question import publishers_named, standalone_query
from .records import Answer, Filters
from .retrieval import Retrieval, resolve_publishers, retrieve
from .store import ChromaServer, Index, IndexPaths, open_index
from .store.integrity import damage
from .timeframe import find_period, format_range


@dataclass(frozen=True)
class Search:
    """What was searched for a question, and the notes that say so to the reader."""

    retrieval: Retrieval
    notes: tuple[str, ...]
    elsewhere: Retrieval | None = None  # the same search without the publisher the question names


class Newsdesk:
    """Holds the encoder and the live index; reopens the index when ``LIVE`` changes.

    ``LIVE`` changes when a build publishes (a new name), and also when the file is rewritten or
    touched with the same name: a chat answering from an earlier generation because the live one
    could not be opened (``Index.notice``) tries the live one again then. It never retries on its
    own, so a damaged generation is not reopened at every question. Damage found while answering
    (an article whose stored text no longer matches its digest) is handled like damage found at
    open: the question is asked again of the newest earlier generation that opens, which answers
    from then on (with its notice), until ``LIVE`` changes."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, writer: Writer | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        self.writer = writer if writer is not None else make_writer(settings)  # None: offline answers
        self.embedder.use_threads(settings.query_threads)
        self._paths = IndexPaths(settings.index_dir)
        self._index: Index | None = None
        self._live: tuple[object, ...] | None = None  # what LIVE was when the index was opened
        self._damaged: dict[str, str] = {}  # generations found damaged while answering, and what was found
        self._lock = threading.Lock()

    def _live_state(self) -> tuple[object, ...]:
        """The generation ``LIVE`` names and the file's identity (a rewrite or a touch changes it)."""
        live = self._paths.live_generation()
        try:
            st = self._paths.live.stat()
        except OSError:
            return (None,)
        return (live.name if live else None, st.st_ino, st.st_mtime_ns, st.st_size)

    @property
    def index(self) -> Index:
        """The generation that answers, reopened if ``LIVE`` changed since it was opened."""
        state = self._live_state()
        with self._lock:
            if self._index is None or state != self._live:
                if state != self._live:
                    self._damaged.clear()  # LIVE changed: every generation may be tried again
                self._index = self._open()
                self._live = state
            return self._index

    def _open(self) -> Index:
        server = ChromaServer.from_settings(self.settings)
        return open_index(self.settings.index_dir, self.embedder, server, damaged=self._damaged)

    def _fall_back(self, damaged: Index, exc: IndexDamagedError) -> bool:
        """After ``exc`` was found in ``damaged`` while answering: open the generation that serves instead.
        False when none can (the error stands)."""
        with self._lock:
            if self._index is not damaged:  # another question already moved on
                return self._index is not None
            self._damaged[damaged.dir.name] = damage(damaged.dir, exc)
            try:
                self._index = self._open()
            except NewsdeskError:  # no earlier generation serves: keep this one, each question says what it finds
                del self._damaged[damaged.dir.name]
                return False
            return True

    def ask(
        self,
        question: str,
        history: Sequence[str] = (),
        filters: Filters = Filters(),
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer ``question`` (a turn of the conversation ``history``) within ``filters``.

        With an LLM writer configured, ``on_text`` receives the checked text as it streams."""
        index = self.index
        try:
            return self._ask(index, question, history, filters, on_text)
        except IndexDamagedError as exc:
            if not self._fall_back(index, exc):
                raise
        answer = self._ask(self.index, question, history, filters, on_text)
        return replace(answer, notes=(*answer.notes, self.index.notice))  # what was found, and which generation answers

    def _ask(
        self, index: Index, question: str, history: Sequence[str], filters: Filters, on_text: Callable[[str], None] | None
    ) -> Answer:
        started = time.perf_counter()
        found = self.search(question, history, filters)
        answer = decide(
            question, found.retrieval, index, self.settings, writer=self.writer, on_text=on_text, elsewhere=found.elsewhere
        )
        timings = {**answer.timings, **{k: round(v, 4) for k, v in found.retrieval.timings.items()}}
        timings["total"] = round(time.perf_counter() - started, 4)
        return replace(answer, notes=found.notes + answer.notes, timings=timings)

    def search(self, question: str, history: Sequence[str] = (), filters: Filters = Filters()) -> Search:
        """What ``ask`` searches for ``question``: the conversation made standalone, the period it
        names turned into a date filter (said back in the notes), then hybrid retrieval."""
        index = self.index
        notes: list[str] = []
        query = standalone_query(history, question)
        focus = question.strip()
        named: tuple[str, ...] = ()
        if filters.publishers:
            filters = replace(filters, publishers=resolve_publishers(index, filters.publishers))
        elif named := publishers_named(question, index.manifest.publishers):
            filters = replace(filters, publishers=named)
            notes.append(f"Searched only articles from {' and '.join(named)}, named in the question.")
        latest = False
        if not (filters.since or filters.until):
            period = find_period(question, _newest(index))
            if period is not None and period.unapplied:
                notes.append(f"The question names a period (“{period.phrase}”), but no article in the archive is "
                             "dated, so it could not be applied: every article was searched.")
            elif period is not None:
                latest = period.latest
                if period.since or period.until:
                    filters = replace(filters, since=period.since, until=period.until)
                    query, focus = period.remove_from(query), period.remove_from(focus)
                notes.append(f"Searched {period.label}" + ("." if not latest or period.since else ", newest first."))
        elif filters.since or filters.until:
            notes.append(f"Searched {format_range(filters.since, filters.until)}.")
        if (filters.since or filters.until) and index.manifest.undated:
            notes.append(f"{index.manifest.undated} undated articles were not searched because a period was given.")
        retrieval = retrieve(index, query, filters, self.settings, focus=focus, latest=latest)
        elsewhere = None
        if named:  # to say who did report it when the named publisher did not
            elsewhere = retrieve(index, query, replace(filters, publishers=()), self.settings, focus=focus, latest=latest)
        return Search(retrieval, tuple(notes), elsewhere)

    def stream(self, question: str, history: Sequence[str] = (), filters: Filters = Filters()) -> Iterator[str | Answer]:
        """The answer as it grows: partial text (str) as it becomes shown, then the ``Answer``.

        With an LLM writer the checked text streams while the model writes; offline, the answer's
        text is given paragraph by paragraph (the lead quote first), then the whole answer."""
        if self.writer is not None:
            yield from self._writer_stream(question, history, filters)
            return
        answer = self.ask(question, history=history, filters=filters)
        paragraphs = answer.text.split("\n\n")
        if not answer.abstained:
            for shown in range(1, len(paragraphs) + 1):
                yield "\n\n".join(paragraphs[:shown])
        yield answer

    def _writer_stream(self, question: str, history: Sequence[str], filters: Filters) -> Iterator[str | Answer]:
        items: queue.Queue[str | Answer | BaseException] = queue.Queue()

        def work() -> None:
            try:
                items.put(self.ask(question, history=history, filters=filters, on_text=items.put))
            except BaseException as exc:  # handed to the consumer, which decides what to show
                items.put(exc)

        threading.Thread(target=work, daemon=True).start()
        while True:
            item = items.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if isinstance(item, Answer):
                return


def _newest(index: Index) -> date | None:
    return date.fromisoformat(index.manifest.date_max) if index.manifest.date_max else None
