"""The optional LLM writer: prompts rendered strictly, retrieved text delimited as data, and the
model's answer checked before anything of it is shown (the rules in full: docs/llm.md).

Each quote (text between “…”, "…", «…» or „…“ followed by ``[n]``) must verify against the
article its ``[n]`` names, and only that one (``quotes.verify``), and stand on its own
(``quotes.standalone_problem``); otherwise it is removed, a neutral marker in its place. A
sentence is shown only when it holds a verified quote and its quotes carry what its prose says
(``quotes.support``). Quotation marks outside verified quotes are removed, ``[n]`` markers are
ours, numbering the sources of the sentences shown, and identifier-like tokens in the prose
(links, e-mail addresses, codes, all-capital words) are removed unless the question has them.

This module writes and checks; it does not decide. ``answering.answer`` decides whether the
writer is asked at all, and shows the offline answer with a note when the endpoint fails, is
slower than ``settings.llm_timeout``, or wrote nothing its quotes carry (``UnsupportedDraft``).
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .config import Settings
from .errors import ConfigError, UnsupportedDraft, WriterTimeout
from .prompts import as_attribute, as_data, render_prompt
from .quotes import STANDALONE_REASONS, QuoteCheck, context_of, fold, standalone_problem, support, verify
from .records import NOT_FOUND, Article, Quote, Source, source_for
from .retrieval import Retrieval

MAX_SOURCES = 4  # passages given to the model
PASSAGE_CHARS = 1500  # a retrieved chunk is ~200 encoder tokens; this only bounds odd ones
MAX_QUOTES = 4
MAX_TOKENS = 512
REMOVED = "[quote removed: not found in the source]"
CUT = "[quote removed: too short or cut from its context]"
COMPLETION_STOPS = ("\nQuestion:", "\nPassages", "<article", "</article>")


@dataclass(frozen=True)
class Passage:
    """A numbered source as the model sees it: the best chunk of one retrieved story."""

    number: int
    article: Article
    text: str  # neutralised for the prompt
    publisher: str
    date: str
    title: str
    also_published_by: tuple[str, ...] = ()


def select_passages(retrieval: Retrieval, limit: int = MAX_SOURCES, max_chars: int = PASSAGE_CHARS) -> list[Passage]:
    """The stories whose sentences answer best (evidence order), then the other hits, numbered 1..n."""
    best: dict[str, float] = {}
    for ev in retrieval.evidence:
        best[ev.article_id] = max(best.get(ev.article_id, float("-inf")), ev.score)
    hits = sorted(retrieval.hits, key=lambda h: -best.get(h.article.id, float("-inf")))[:limit]
    passages = []
    for number, hit in enumerate(hits, start=1):
        text = hit.chunk.text
        if len(text) > max_chars:
            text = text[: text.rfind(" ", 0, max_chars) if " " in text[:max_chars] else max_chars]
        a = hit.article
        date = a.published.isoformat() if a.published else (str(a.year) if a.year else "unknown")
        passages.append(
            Passage(number, a, as_data(text), as_attribute(a.publisher or "unknown"), date, as_attribute(a.title), hit.also_published_by)
        )
    return passages


def answer_prompts(question: str, passages: Sequence[Passage], max_quotes: int = MAX_QUOTES) -> tuple[str, str]:
    """(system, user) prompts for an answer."""
    system = render_prompt("answer_system", not_found=NOT_FOUND, max_quotes=max_quotes)
    user = render_prompt("answer_user", passages=list(passages), question=as_data(" ".join(question.split())))
    return system, user


# ---- writers -----------------------------------------------------------------------------------


class Writer(ABC):
    """Turns a system and a user prompt into text, streamed in pieces."""

    @abstractmethod
    def generate(self, system: str, user: str) -> Iterator[str]: ...


class OpenAICompatibleWriter(Writer):
    """Any OpenAI-compatible endpoint (Ollama, llama.cpp server, vLLM, OpenAI) via llama-index's
    ``OpenAILike``, with every setting explicit so nothing falls back to OpenAI's defaults.

    ``chat=False`` uses the completions endpoint with the system and user prompts joined — for
    base models without a chat template.
    """

    def __init__(
        self, base_url: str, model: str, api_key: str = "", timeout: float = 60.0, chat: bool = True,
        max_tokens: int = MAX_TOKENS, temperature: float = 0.0, context_window: int = 8192,
    ) -> None:
        if not base_url or not model:
            raise ConfigError("The LLM writer needs both NEWSDESK_LLM_BASE_URL and NEWSDESK_LLM_MODEL.")
        from llama_index.llms.openai_like import OpenAILike

        self.chat = chat
        self.llm = OpenAILike(
            model=model,
            api_base=base_url,
            api_key=api_key or "none",
            is_chat_model=chat,
            is_function_calling_model=False,
            context_window=context_window,
            max_tokens=max_tokens,
            temperature=temperature,
            timeout=timeout,
            max_retries=0,  # a failure falls back to the offline answer at once
            reuse_client=True,
            # a base model continues the document: stop it before it writes the next passage or question
            additional_kwargs={} if chat else {"stop": list(COMPLETION_STOPS)},
        )

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> OpenAICompatibleWriter:
        return cls(settings.llm_base_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout, **options)

    def generate(self, system: str, user: str) -> Iterator[str]:
        from llama_index.core.base.llms.types import ChatMessage, MessageRole

        if self.chat:
            messages = [ChatMessage(role=MessageRole.USER, content=user)]
            if system:
                messages.insert(0, ChatMessage(role=MessageRole.SYSTEM, content=system))
            for response in self.llm.stream_chat(messages):
                if response.delta:
                    yield response.delta
        else:
            prompt = f"{system}\n\n{user}" if system else user
            for completion in self.llm.stream_complete(prompt, formatted=True):
                if completion.delta:
                    yield completion.delta


def make_writer(settings: Settings) -> Writer | None:
    """The configured writer, or None when no endpoint is set (offline answers)."""
    if not settings.llm_base_url:
        return None
    return OpenAICompatibleWriter.from_settings(settings, chat=settings.llm_chat, max_tokens=settings.llm_max_tokens)


# ---- parsing the model's output ----------------------------------------------------------------


@dataclass(frozen=True)
class _Prose:
    text: str


@dataclass(frozen=True)
class _Cite:
    numbers: tuple[int, ...]


@dataclass(frozen=True)
class _Said:
    text: str  # a quote as the model wrote it


_Token = _Prose | _Cite | _Said

_QUOTE = re.compile(r"[“\"«„]((?:[^“”\"«»„\n]|\n(?!\s*\n)){1,2000})[”\"»“]")  # no blank line inside
_MARKERS = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]")
_BREAK = re.compile(r"\n+|(?<=[.!?])\s+(?=[A-Z\[(“\"«„‘'])")
_ABBREVIATION = re.compile(r"(?:^|\s)(?:(?:[A-Z]\.)+|Mr|Mrs|Ms|Dr|Gen|Gov|Sen|Rep|St|Sept?|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Oct|Nov|Dec|No|vs)\.?$")


def _sentences(output: str) -> tuple[list[list[_Token]], list[str]]:
    """The output as sentences of tokens, and the separator before each sentence."""
    sentences: list[list[_Token]] = [[]]
    separators = [""]

    def prose(text: str) -> None:
        start = 0
        for m in _BREAK.finditer(text):
            if "\n" not in m.group(0) and _ABBREVIATION.search(text[: m.start()]):
                continue
            if m.start() > start:
                sentences[-1].append(_Prose(text[start : m.start()]))
            sentences.append([])
            separators.append("\n\n" if "\n" in m.group(0) else " ")
            start = m.end()
        if start < len(text):
            sentences[-1].append(_Prose(text[start:]))

    def outside_quotes(text: str) -> None:
        pos = 0
        for m in _MARKERS.finditer(text):
            prose(text[pos : m.start()])
            sentences[-1].append(_Cite(tuple(int(n) for n in re.findall(r"\d+", m.group(1)))))
            pos = m.end()
        prose(text[pos:])

    pos = 0
    for m in _QUOTE.finditer(output):
        if output[max(0, m.start() - 8) : m.start()].rstrip().endswith("="):
            continue  # markup (attr="value"), not a quotation: stays prose, its marks are removed
        outside_quotes(output[pos : m.start()])
        sentences[-1].append(_Said(m.group(1)))
        pos = m.end()
    outside_quotes(output[pos:])
    return sentences, separators


def _citation(sentence: list[_Token], i: int) -> tuple[int, ...]:
    """The [n] of the quote at ``i``: the first marker after it in its sentence, else the last before."""
    after = next((t for t in sentence[i + 1 :] if isinstance(t, _Cite)), None)
    if after is not None:
        return after.numbers
    before = [t for t in sentence[:i] if isinstance(t, _Cite)]
    return before[-1].numbers if before else ()


_EDGE_PUNCTUATION = ".,;:!?"


def _check_quote(said: str, numbers: tuple[int, ...], passages: dict[int, Passage]) -> tuple[QuoteCheck | None, int, str]:
    """Verify a quote against the articles it cites — only those — and require it to stand on its
    own (``quotes.standalone_problem``). (check, cited number, reason)."""
    if not numbers:
        return None, 0, "no [n] citation"
    if not any(n in passages for n in numbers):
        return None, 0, "cites an unknown source"
    variants = dict.fromkeys([said, said.replace("‹", "<").replace("›", ">"), said.strip().strip(_EDGE_PUNCTUATION)])
    reason = "not found in the cited article"
    for n in (n for n in numbers if n in passages):
        for text in filter(str.strip, variants):
            check = verify(passages[n].article, text, source=n)
            if check.ok and not (problem := standalone_problem(passages[n].article.body, check)):
                return check, n, ""
            reason = problem if check.ok else reason
    return None, 0, reason


_WORDLIKE = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\w[\w-]*", re.I)
_DOUBLE_MARKS = re.compile(r"[“”\"«»„‟″]")
_SINGLE_PAIR = re.compile(r"(?<!\w)['‘‛]([^'‘’\n]{1,200}?)['’](?!\w)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def _is_payload(token: str) -> bool:
    return (
        "://" in token
        or token.lower().startswith("www.")
        or "@" in token
        or (any(c.isdigit() for c in token) and any(c.isalpha() for c in token))
        or re.search(r"[A-Z]{4,}", token) is not None
    )


def clean_prose(text: str, question: str) -> str:
    """Model prose made safe to show: no quotation marks, no links, no ungrounded identifiers."""
    asked = question.casefold()
    text = _LINK.sub(r"\1", text)
    text = _SINGLE_PAIR.sub(r"\1", text)
    text = _DOUBLE_MARKS.sub("", text)
    return _WORDLIKE.sub(lambda m: "" if _is_payload(m.group(0)) and m.group(0).casefold() not in asked else m.group(0), text)


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" ([.,;:!?])", r"\1", text)
    text = re.sub(r"([.,;:!?])[.,;:]+", r"\1", text)
    text = re.sub(r"\(\s*\)|\[\s*\]", "", text)
    return text.strip().lstrip(".,;:!?- ").strip()


@dataclass(frozen=True)
class Draft:
    """The model's output after checking: what may be shown, and what was taken out."""

    text: str
    quotes: tuple[Quote, ...]
    sources: tuple[Source, ...]
    produced: int  # quotes the model wrote
    removed: tuple[str, ...]  # one reason per removed quote
    dropped_sentences: int  # sentences without a verified quote, not shown
    said_not_found: bool
    unsupported_sentences: int = 0  # sentences saying more than their quotes, not shown

    @property
    def nothing_carried(self) -> bool:
        """Nothing to show though the writer quoted its articles: its quotes were too short or cut
        from their context, or its sentences said more than their quotes."""
        standalone = any(reason in STANDALONE_REASONS for reason in self.removed)
        return not self.quotes and not self.said_not_found and (standalone or self.unsupported_sentences > 0)


def check_output(output: str, passages: Sequence[Passage], question: str) -> Draft:
    """Parse the model's output, verify every quote against the article it cites, and render the
    text that may be shown (see the module docstring for the rules)."""
    by_number = {p.number: p for p in passages}
    sentences, separators = _sentences(output)
    checks = {
        (s, i): _check_quote(token.text, _citation(sentence, i), by_number)
        for s, sentence in enumerate(sentences)
        for i, token in enumerate(sentence)
        if isinstance(token, _Said)
    }
    display: dict[int, int] = {}  # cited passage number → number shown, in order of first citation
    shown: list[str] = []
    quotes: dict[tuple[str, int, int], Quote] = {}
    dropped = unsupported = 0
    for s, sentence in enumerate(sentences):
        results = {i: checks[s, i] for i, token in enumerate(sentence) if isinstance(token, _Said)}
        verified = [(check, n) for check, n, _ in results.values() if check is not None]
        if not verified:
            dropped += bool(results) or any(isinstance(t, _Prose) and _tidy(t.text) for t in sentence)
            continue
        if not _carried(sentence, verified, by_number, question):
            unsupported += 1
            continue
        for _, n in verified:
            display.setdefault(n, len(display) + 1)
        text = _render(sentence, results, display, question, quotes)
        shown.append(("" if not shown else separators[s]) + text)
    return Draft(
        text="".join(shown).strip(),
        quotes=tuple(quotes.values()),
        sources=tuple(
            source_for(shown_as, by_number[n].article, by_number[n].also_published_by) for n, shown_as in display.items()
        ),
        produced=len(checks),
        removed=tuple(reason for check, _, reason in checks.values() if check is None),
        dropped_sentences=dropped,
        said_not_found=fold(NOT_FOUND)[0].casefold().rstrip(".") in fold(output)[0].casefold(),
        unsupported_sentences=unsupported,
    )


def _carried(sentence: list[_Token], verified: list[tuple[QuoteCheck, int]], passages: dict[int, Passage], question: str) -> bool:
    """Whether the sentence's verified quotes carry what its prose says (``quotes.support``)."""
    prose = " ".join(clean_prose(t.text, question) for t in sentence if isinstance(t, _Prose))
    context: list[str] = []
    for check, n in verified:
        a = passages[n].article
        when = f"{a.published:%d %B %Y}" if a.published else str(a.year or "")
        context += [context_of(a.body, check), a.publisher or "", a.author or "", when]
        context += passages[n].also_published_by
    return support(prose, [check.text for check, _ in verified], " ".join(context)).carried


def _render(
    sentence: list[_Token], results: dict[int, tuple[QuoteCheck | None, int, str]], display: dict[int, int],
    question: str, quotes: dict[tuple[str, int, int], Quote],
) -> str:
    """One sentence as shown: cleaned prose, verified quotes with our [n], removed ones marked."""
    parts: list[str] = []
    for i, token in enumerate(sentence):
        if isinstance(token, _Prose):
            parts.append(clean_prose(token.text, question))
        elif isinstance(token, _Said):
            check, n, reason = results[i]
            if check is None:
                parts.append(CUT if reason in STANDALONE_REASONS else REMOVED)
                continue
            for q in check.parts:
                quotes.setdefault((q.article_id, q.start, q.end), replace(q, source=display[n]))
            parts.append(f"“{check.text}” [{display[n]}]")
    return _tidy("".join(parts))


# ---- writing a draft --------------------------------------------------------------------------


def describe_failure(exc: BaseException, timeout: float) -> str:
    """What went wrong with the endpoint, in words for a note ("timed out after 60 s")."""
    name = type(exc).__name__
    if isinstance(exc, UnsupportedDraft):
        return "wrote no sentence that its quotes support"
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        return f"timed out after {timeout:g} s"
    if "Connection" in name or isinstance(exc, ConnectionError):
        return "could not be reached"
    return "failed"


def _complete_sentences(output: str) -> str:
    """The part of a streaming output that ends at a sentence or line boundary."""
    ends = [m.end() for m in re.finditer(r"\n|[.!?\]][”\"»]?\s", output)]
    return output[: ends[-1]] if ends else ""


def write_draft(
    question: str, passages: Sequence[Passage], writer: Writer, *,
    max_quotes: int, timeout: float, on_text: Callable[[str], None] | None = None,
) -> tuple[Draft, dict[str, float]]:
    """The writer's answer from ``passages``, checked: (the draft, timings).

    ``on_text`` receives the checked rendering of the complete sentences so far (never raw model
    output) while the writer streams. An endpoint failure, a writer slower than ``timeout``
    (``WriterTimeout``) or an answer its quotes do not carry (``UnsupportedDraft``) is raised
    for the caller to fall back on."""
    system, user = answer_prompts(question, passages, max_quotes)
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    timings: dict[str, float] = {}
    output, checked, preview = "", "", ""
    for piece in _stream(writer, system, user, deadline):
        timings.setdefault("llm_first_piece", round(time.perf_counter() - started, 4))
        output += piece
        if on_text is not None and (complete := _complete_sentences(output)) != checked:
            checked = complete  # re-check only when a sentence or line has been completed
            partial = check_output(complete, passages, question).text
            if partial != preview:
                preview = partial
                on_text(partial)
    timings["llm"] = round(time.perf_counter() - started, 4)
    t = time.perf_counter()
    draft = check_output(output, passages, question)
    timings["verify"] = round(time.perf_counter() - t, 4)
    if draft.nothing_carried:
        raise UnsupportedDraft("no sentence of the writer's answer is carried by its quotes")
    if on_text is not None and draft.text != preview:
        on_text(draft.text)
    return draft, timings


def _stream(writer: Writer, system: str, user: str, deadline: float) -> Iterator[str]:
    """The writer's pieces; a ``WriterTimeout`` once the deadline has passed."""
    for piece in writer.generate(system, user):
        if time.monotonic() > deadline:
            raise WriterTimeout("the writer did not finish in time")
        yield piece


def draft_notes(draft: Draft) -> tuple[str, ...]:
    """What the reader is told about the checking: quotes removed, sentences not shown."""
    notes = []
    if draft.removed:
        why = ", ".join(f"{n} {reason}" for reason, n in Counter(draft.removed).most_common())
        notes.append(f"{len(draft.removed)} of {draft.produced} quote(s) from the LLM writer were removed ({why}).")
    if draft.dropped_sentences:
        notes.append(f"{draft.dropped_sentences} sentence(s) of the LLM writer without a verified quote were not shown.")
    if draft.unsupported_sentences:
        notes.append(f"{draft.unsupported_sentences} sentence(s) of the LLM writer saying more than their quotes were not shown.")
    return tuple(notes)
