"""The page's event handlers (``Chat``): plain methods, so tests can call them without a browser.

Answers stream: an ``AnswerStream`` yields partial answer text (str) and finally the ``Answer``.
The default one is ``Newsdesk.stream`` (checked text as it grows, then the Answer); tests and other
writers plug in their own.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr

from ..chat import Newsdesk
from ..config import Settings
from ..errors import InputError, NewsdeskError, chat_message
from ..records import Answer, Filters, IndexStatus, Source, answer_to_dict
from ..terminal import index_status
from .html import (
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

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
MAX_HISTORY = 10  # earlier questions sent with a follow-up
EXAMPLES_SHOWN = 4

AnswerStream = Callable[[str, Sequence[str], Filters], Iterator[str | Answer]]


def progressive(newsdesk: Newsdesk) -> AnswerStream:
    """The default stream: ``Newsdesk.stream`` (checked text as it grows, then the Answer)."""
    return newsdesk.stream


def example_questions(sources: Sequence[str], limit: int = EXAMPLES_SHOWN) -> list[str]:
    """Questions kept beside the archive: ``questions.jsonl`` in a folder the index was built from."""
    for source in sources:
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


class Chat:
    """The page's event handlers."""

    def __init__(self, newsdesk: Newsdesk, settings: Settings, stream: AnswerStream | None = None) -> None:
        self.newsdesk = newsdesk
        self.settings = settings
        self.stream = stream or progressive(newsdesk)

    def archive_info(self) -> IndexStatus | None:
        try:
            return index_status(self.settings)
        except NewsdeskError:
            return None

    def page(self) -> tuple[Any, ...]:
        """On page load: header, archive panel, conversation, examples, publisher choices, composer."""
        info = self.archive_info()
        if info is None:
            return (render_header(None), render_archive(None), render_no_index(), gr.update(value="", visible=False),
                    gr.update(choices=[], value=[]), gr.update(interactive=False, placeholder="No index to ask yet"),
                    gr.update(interactive=False))
        examples = render_examples(example_questions(info.sources) or title_questions(self._titles()))
        return (render_header(info), render_archive(info), render_transcript([]), gr.update(value=examples, visible=bool(examples)),
                gr.update(choices=list(info.publishers)), gr.update(interactive=True), gr.update(interactive=True))

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
            filters = Filters.parse(publishers, since=since, until=until)
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
            yield replace(turn, status="error", message=chat_message(exc))

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
            return render_reader_message(chat_message(exc))
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
            return render_filters_line(Filters.parse(publishers, since=since, until=until))
        except InputError as exc:
            return render_filters_line(None, str(exc))

    def ask_api(
        self, question: str, history: list[str] | None = None, publishers: list[str] | None = None, since: str = "", until: str = ""
    ) -> dict[str, Any]:
        """One answer as data: ``html`` (as the chat renders it), ``answer`` (or None) and ``error`` (or None)."""
        try:
            if not question.strip() or len(question) > MAX_QUESTION_CHARS:
                raise InputError(f"Ask a question of 1 to {MAX_QUESTION_CHARS:,} characters.")
            filters = Filters.parse(publishers, since=since, until=until)
            earlier = [str(q)[:MAX_QUESTION_CHARS] for q in (history or [])][-MAX_HISTORY:]
            answer = self.newsdesk.ask(question.strip(), history=earlier, filters=filters)
        except Exception as exc:
            if not isinstance(exc, NewsdeskError):
                log.exception("API question failed")
            message = chat_message(exc)
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
