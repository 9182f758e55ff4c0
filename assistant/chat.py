"""The assistant: one entry point that turns a question (and its conversation) into an Answer.

Every front end — the CLI, the chat UI and evaluation — calls ``Newsdesk.ask``. Follow-up
questions are rewritten into a standalone search offline; periods named in the question become
date filters resolved against the archive's newest article.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date

from .answering import compose
from .config import Settings
from .embedding import Embedder, make_embedder
from .generation import Writer, llm_answer, make_writer
from .lexical import terms
from .records import Answer, Filters
from .retrieval import resolve_publishers, retrieve
from .store import ChromaServer, Index, IndexPaths, open_index
from .timeframe import find_period, format_range

_PRONOUN = re.compile(r"\b(it|its|they|them|their|theirs|he|him|his|she|her|hers|the same|the former|the latter)\b", re.I)
_DEICTIC = re.compile(r"\b(that|this|those|these)\s+(?!is\b|was\b|are\b|were\b)[a-z]+", re.I)
_THAT_STORY = re.compile(  # the conversation's own subject, whatever names the question also holds
    r"\b(that|this|the same)\s+(story|article|report|piece|interview|editorial|column|op-ed|paper|poll|survey|speech|letter)\b",
    re.I,
)
_OPENERS = ("and ", "and,", "what about", "how about", "also", "but ", "so ", "then ", "why?", "why not", "who else", "what else")


def is_dependent(question: str) -> bool:
    """Does the question lean on the conversation ("who announced it?", "and what did Russia say?")?"""
    q = question.strip().lower()
    if q.startswith(_OPENERS) or _PRONOUN.search(q) or _THAT_STORY.search(q) or len(terms(question)) <= 2:
        return True
    return bool(_DEICTIC.search(q)) and not re.search(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]+", question.strip())


def standalone_query(history: Sequence[str], question: str) -> str:
    """The question made standalone by prefixing the turns it depends on (offline, no LLM)."""
    if not history or not is_dependent(question):
        return question.strip()
    context: list[str] = []
    for turn in reversed(history):
        context.insert(0, turn.strip())
        if not is_dependent(turn):
            break
    return " ".join([*context, question.strip()])


class Newsdesk:
    """Holds the encoder and the live index; reopens the index when a rebuild publishes a new one."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, writer: Writer | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        self.writer = writer if writer is not None else make_writer(settings)  # None: offline answers
        self.embedder.use_threads(settings.query_threads)
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
                self._index = open_index(self.settings.index_dir, self.embedder, ChromaServer.from_settings(self.settings))
                self._generation = name
            return self._index

    def ask(
        self,
        question: str,
        history: Sequence[str] = (),
        filters: Filters = Filters(),
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer ``question`` (a turn of the conversation ``history``) within ``filters``.

        With an LLM writer configured, ``on_text`` receives the checked text as it streams."""
        started = time.perf_counter()
        index = self.index
        notes: list[str] = []
        query = standalone_query(history, question)
        focus = question.strip()
        if filters.publishers:
            filters = replace(filters, publishers=resolve_publishers(index, filters.publishers))
        latest = False
        if not (filters.since or filters.until):
            period = find_period(question, _newest(index))
            if period is not None:
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
        if self.writer is not None:
            answer = llm_answer(question, index, retrieval, self.settings, self.writer, on_text=on_text, searched_query=query)
        else:
            answer = compose(question, index, retrieval, self.settings, searched_query=query)
        timings = {k: round(v, 4) for k, v in retrieval.timings.items()}
        timings["total"] = round(time.perf_counter() - started, 4)
        answer.timings.update(timings)
        return replace(answer, notes=tuple(notes) + answer.notes) if notes else answer


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
