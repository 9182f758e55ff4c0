"""The page's event handlers (``Chat``): plain methods, so tests can call them without a browser.

Answers stream: an ``AnswerStream`` yields partial answer text (str) and finally the ``Answer``.
The default one is ``Newsdesk.stream`` (checked text as it grows, then the Answer); tests and other
writers plug in their own.

The archive panel, the header and the index banner describe the generation the chat actually has
open (``Newsdesk.index``), not a fresh reading of ``LIVE``: when an earlier generation answers because
the live one is damaged, the banner says which one answers, why, and how to rebuild; when no
generation can answer, "damaged" (or why else it cannot be used) is said in other words than
"No index". The banner is refreshed on page load and after every answer.
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
from ..errors import (
    REBUILD_COMMAND,
    IndexDamagedError,
    IndexMissingError,
    InputError,
    NewsdeskError,
    chat_message,
    without_paths,
)
from ..records import Answer, Filters, IndexStatus, Source, answer_to_dict
from ..store import Serving
from ..terminal import index_status
from .html import (
    Turn,
    esc,
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
    """Questions kept beside the archive: ``examples.jsonl`` (chosen to show what the chat does), else
    ``questions.jsonl``, in a folder the index was built from."""
    for source in sources:
        folder = Path(source) if Path(source).is_dir() else Path(source).parent
        found = _read_questions(folder / "examples.jsonl") or _read_questions(folder / "questions.jsonl")
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


def render_index_banner(info: IndexStatus | None, problem: NewsdeskError | None) -> str:
    """The banner above the conversation: empty while the live generation answers; otherwise which
    generation answers and why (an earlier one, the live one being damaged), or why none can answer.
    No index at all is said by ``render_no_index`` instead."""
    if problem is not None:
        if isinstance(problem, IndexMissingError):
            return ""
        if isinstance(problem, IndexDamagedError):
            state, title, text = "damaged", "The index is damaged and cannot answer", without_paths(str(problem))
        else:
            state, title, text = "unavailable", "The index cannot be used right now", problem.chat_message()
    elif info is not None and info.notice:
        state, title, text = "stale", f"Answering from an older index: generation {info.generation}", without_paths(info.notice)
    else:
        return ""
    rebuild = "" if state == "unavailable" or REBUILD_COMMAND in text else f"<p>Rebuild it with <code>{esc(REBUILD_COMMAND)}</code>.</p>"
    return (
        f'<section class="nd-banner" data-state="{state}" role="alert" aria-label="Index notice">'
        f'<p class="nd-banner-title">{esc(title)}</p><p>{esc(text)}</p>{rebuild}</section>'
    )


PROBLEM_LABELS = {"damaged": "Index damaged", "unavailable": "Index unavailable"}


def render_archive_panel(info: IndexStatus | None, problem: NewsdeskError | None) -> str:
    """The archive overview; for an index that exists but cannot answer, a pointer to the banner (not "No index yet")."""
    if info is not None or problem is None or isinstance(problem, IndexMissingError):
        return render_archive(info)
    return (
        '<section class="nd-reader nd-archive" aria-label="Archive"><div class="nd-reader-bar">'
        '<span class="nd-reader-kicker">The archive</span></div><p class="nd-hint">The index cannot answer at the moment '
        "(the notice above the conversation says why); what the archive holds will show here again once it can.</p></section>"
    )


def render_problem_header(problem: NewsdeskError) -> str:
    """The header for an index that exists but cannot answer: labelled as such, never "No index"."""
    state = "damaged" if isinstance(problem, IndexDamagedError) else "unavailable"
    header = render_header(None)
    return header.replace('data-state="no-index"', f'data-state="{state}"', 1).replace(">No index<", f">{PROBLEM_LABELS[state]}<", 1)


class Chat:
    """The page's event handlers."""

    def __init__(self, newsdesk: Newsdesk, settings: Settings, stream: AnswerStream | None = None) -> None:
        self.newsdesk = newsdesk
        self.settings = settings
        self.stream = stream or progressive(newsdesk)

    def serving(self) -> tuple[IndexStatus | None, NewsdeskError | None]:
        """The status of the generation the chat answers from (reopened if ``LIVE`` changed), or why none can."""
        try:
            index = self.newsdesk.index
            return index_status(self.settings, Serving(index.dir, index.manifest, index.notice)), None
        except NewsdeskError as exc:
            return None, exc

    def archive_panel(self) -> str:
        return render_archive_panel(*self.serving())

    def banner(self) -> str:
        return render_index_banner(*self.serving())

    def page(self) -> tuple[Any, ...]:
        """On page load: header, archive panel, conversation, examples, publisher choices, composer, index banner."""
        info, problem = self.serving()
        banner = render_index_banner(info, problem)
        if isinstance(problem, IndexMissingError):
            return (render_header(None), render_archive(None), render_no_index(), gr.update(value="", visible=False),
                    gr.update(choices=[], value=[]), gr.update(interactive=False, placeholder="No index to ask yet"),
                    gr.update(interactive=False), banner)
        if info is None:  # damaged or unusable: asking again retries (a rebuild is picked up without a reload)
            header = render_problem_header(problem) if problem is not None else render_header(None)
            return (header, render_archive_panel(info, problem), render_transcript([]), gr.update(value="", visible=False),
                    gr.update(choices=[], value=[]), gr.update(interactive=True), gr.update(interactive=True), banner)
        examples = render_examples(example_questions(info.sources) or title_questions(self._titles()))
        return (render_header(info), render_archive(info), render_transcript([]), gr.update(value=examples, visible=bool(examples)),
                gr.update(choices=list(info.publishers)), gr.update(interactive=True), gr.update(interactive=True), banner)

    def _titles(self) -> list[str]:
        try:
            return [a.title for a in itertools.islice(self.newsdesk.index.articles.stream(), 50)]
        except NewsdeskError:
            return []

    def ask(self, question: str, turns: list[Turn], publishers: list[str], since: str, until: str) -> Iterator[tuple[Any, ...]]:
        """Outputs: question box, conversation, turns, examples, ask button, stop button, index banner
        (refreshed when the answer is done: the question may have reopened the index)."""
        question = (question or "").strip()
        turns = list(turns or [])
        if not question:
            yield (gr.skip(),) * 7
            return
        try:
            if len(question) > MAX_QUESTION_CHARS:
                raise InputError(f"Questions are limited to {MAX_QUESTION_CHARS:,} characters.")
            filters = Filters.parse(publishers, since=since, until=until)
        except InputError as exc:
            failed = [*turns, Turn(question, Filters(), "error", message=str(exc))]
            yield question, render_transcript(failed), failed, gr.update(visible=False), *_buttons(busy=False), gr.skip()
            return
        history = [t.question for t in turns if t.status == "done"][-MAX_HISTORY:]
        pending = Turn(question, filters)
        yield "", render_transcript([*turns, pending]), [*turns, pending], gr.update(visible=False), *_buttons(busy=True), gr.skip()
        for turn in self._answer(pending, history):
            done = turn.status in ("done", "error")
            banner = self.banner() if done else gr.skip()
            yield "", render_transcript([*turns, turn]), [*turns, turn], gr.skip(), *_buttons(busy=not done), banner

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
        """Outputs: conversation, turns, reader, examples, ask button, stop button, index banner."""
        info, problem = self.serving()
        return (render_transcript([]), [], render_archive_panel(info, problem), gr.update(visible=info is not None),
                *_buttons(busy=False), render_index_banner(info, problem))

    def open_source(self, turns: list[Turn], evt: gr.EventData) -> str:
        """A quote card or citation was clicked: the article with the quoted passage highlighted."""
        data = evt._data if isinstance(getattr(evt, "_data", None), dict) else {}
        if data.get("action") == "close":
            return self.archive_panel()
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
