"""newsdesk inside llama-index: its retrieval as a retriever, its quote verifier as a response check.

``NewsdeskRetriever`` is a llama-index ``BaseRetriever`` over newsdesk's own search
(``Newsdesk.search``: a follow-up made standalone, a publisher or a period the question names
turned into filters, BM25 + dense fused by rank, one hit per story, evidence sentences ranked), so
its nodes are the product's hits in the product's order. Each story is one ``TextNode`` whose id
is its best chunk's id (``<article id>#<ordinal>``) and whose text is that chunk, exactly
``article.body[start:end]`` — the passage newsdesk's own LLM writer is given. Its metadata holds
where the text comes from and the sentences that answer best (``node_metadata``); only the title,
publisher and date are shown to the LLM.

An LLM may misquote whatever it is given. ``verify_response`` finds every quoted passage (between
“ ”, " ", « » or „ “) of a llama-index response and checks it with newsdesk's one verifier
(``quotes.verify``) against the stored text of the articles behind the response's source nodes:
a quote is verified (the text is in an article), repaired (it differs only by typography or
spacing; the exact article text is reported) or rejected, and like the LLM writer's quotes it must
stand on its own (five words or a whole sentence). ``VerifiedQueryEngine`` wraps any query engine
and removes (``mode="drop"``) or marks (``mode="flag"``) the rejected quotes, with the report in
``response.metadata["quote_report"]``. ``StoredTextCheck`` is a node postprocessor that drops (or
marks) nodes whose text is no longer the stored article text at their offsets.

This module imports llama-index; nothing on the answer path imports it (``newsdesk ask`` does not
load llama-index). The recipe: docs/llamaindex.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.response.schema import (
    RESPONSE_TYPE,
    AsyncStreamingResponse,
    PydanticResponse,
    Response,
    StreamingResponse,
)
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.prompts.mixin import PromptMixinType
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeRelationship, NodeWithScore, QueryBundle, RelatedNodeInfo, TextNode

from .answering import Judgement, judge
from .chat import Newsdesk, Search
from .config import Settings
from .generation import CUT, REMOVED
from .quotes import STANDALONE_REASONS, QuoteCheck, standalone_problem, verify
from .records import Article, Filters, Hit, Quote, Source, Verification, source_for

SHOWN_TO_LLM = ("title", "publisher", "date")  # metadata printed above a node's text in the LLM's prompt
EVIDENCE_PER_NODE = 5  # a story's best-ranked sentences kept in its node's metadata
QUOTE_REPORT = "quote_report"  # the key of the report in a checked response's metadata
Mode = Literal["drop", "flag"]


class NewsdeskRetriever(BaseRetriever):
    """newsdesk's hybrid, story-aware retrieval as a llama-index retriever.

    ``NewsdeskRetriever()`` opens the live index named by the ``NEWSDESK_*`` settings (an error
    saying how to build one when there is none); ``NewsdeskRetriever(desk)`` wraps an open
    ``Newsdesk``. ``filters`` restrict every search (publishers as the reader names them, authors,
    dates), as ``newsdesk ask --publisher/--since/--until`` do; ``history`` is the conversation a
    follow-up question leans on, oldest first.

    Every node carries newsdesk's judgement of the question (``answerability``: whether the
    evidence answers it — ``answered``, ``not_answered`` when the archive has related passages
    that do not say what is asked, ``nothing_found`` — with the reason and the answerability
    model's score), the decision ``newsdesk ask`` takes before it writes anything. With
    ``abstain=True`` the retriever returns no nodes unless the question is judged answered, so a
    query engine says it has nothing rather than letting an LLM answer from near misses."""

    def __init__(
        self,
        desk: Newsdesk | None = None,
        *,
        settings: Settings | None = None,
        filters: Filters = Filters(),
        history: Sequence[str] = (),
        abstain: bool = False,
        **kwargs: Any,
    ) -> None:
        self.desk = desk if desk is not None else Newsdesk(settings or Settings.from_env())
        self.filters = filters
        self.history = tuple(history)
        self.abstain = abstain
        _ = self.desk.index  # opened now: a missing or damaged index is an error here, not at the first question
        super().__init__(**kwargs)

    def search(self, question: str) -> Search:
        """What newsdesk searches for ``question`` (the same as ``newsdesk ask``): its hits, evidence and notes."""
        return self.desk.search(question, self.history, self.filters)

    def judge(self, question: str, found: Search | None = None) -> Judgement:
        """newsdesk's judgement of whether the archive answers ``question`` (``answering.judge``)."""
        found = found or self.search(question)
        return judge(question, found.retrieval, self.desk.settings, self.desk.index.idf)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        index = self.desk.index
        found = self.search(query_bundle.query_str)
        judged = self.judge(query_bundle.query_str, found)
        if self.abstain and judged.outcome != "answered":
            return []
        said = {"outcome": judged.outcome, "reason": judged.reason,
                "score": None if judged.score is None else round(judged.score, 4)}
        nodes = []
        for hit in found.retrieval.hits:
            node = story_node(hit, found, index.groups.key(hit.article.id))
            node.metadata["answerability"] = said
            node.excluded_llm_metadata_keys.append("answerability")
            node.excluded_embed_metadata_keys.append("answerability")
            nodes.append(NodeWithScore(node=node, score=hit.score))
        return nodes

    def verify(self, response: RESPONSE_TYPE, *, standalone: bool = True) -> QuoteReport:
        """``verify_response`` against this retriever's index."""
        return verify_response(response, self.desk, standalone=standalone)


def story_node(hit: Hit, found: Search, story_group: str) -> TextNode:
    """One retrieved story as a node: its best chunk's text, id and offsets, and its metadata."""
    article, chunk = hit.article, hit.chunk
    metadata = node_metadata(hit, found, story_group)
    return TextNode(
        id_=chunk.id,
        text=chunk.text,
        start_char_idx=chunk.start,
        end_char_idx=chunk.end,
        metadata=metadata,
        excluded_llm_metadata_keys=[k for k in metadata if k not in SHOWN_TO_LLM],
        excluded_embed_metadata_keys=[k for k in metadata if k != "title"],
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=article.id, metadata={"title": article.title})},
    )


def node_metadata(hit: Hit, found: Search, story_group: str) -> dict[str, Any]:
    """Where a node's text comes from and why it was found (plain JSON values).

    ``start``/``end`` are the node text's character offsets in the stored article body;
    ``evidence`` lists the article's best sentences for the question (at most ``EVIDENCE_PER_NODE``,
    best first, each with its score and its offsets in the same body; only the first five stories
    have sentences ranked, as in the product — they may lie in another matching chunk of the article than the
    node's); ``story_group`` is the id of the story's original article (itself when the story
    has a single copy) and ``also_published_by`` the publishers of its syndicated copies;
    ``searched_query``, ``filters`` and ``search_notes`` say what was searched (a period or a
    publisher the question names becomes a filter, as in ``newsdesk ask``)."""
    a, retrieval = hit.article, found.retrieval
    ranked = [ev for ev in retrieval.evidence if ev.article_id == a.id][:EVIDENCE_PER_NODE]
    evidence = [{"start": ev.start, "end": ev.end, "text": ev.text, "score": round(ev.score, 4)} for ev in ranked]
    return {
        "title": a.title,
        "publisher": a.publisher,
        "date": a.published.isoformat() if a.published else (str(a.year) if a.year else None),
        "article_id": a.id,
        "chunk_id": hit.chunk.id,
        "start": hit.chunk.start,
        "end": hit.chunk.end,
        "author": a.author,
        "url": a.url,
        "label": a.label,
        "story_group": story_group,
        "also_published_by": list(hit.also_published_by),
        "evidence": evidence,
        "evidence_score": evidence[0]["score"] if evidence else None,
        "fused_score": hit.score,
        "dense_rank": hit.dense_rank,
        "sparse_rank": hit.sparse_rank,
        "searched_query": retrieval.query,
        "filters": retrieval.filters.describe(),
        "search_notes": list(found.notes),
    }


# ---- checking an LLM's answer ----------------------------------------------------------------------

_QUOTED = re.compile(r"[“\"«„]((?:[^“”\"«»„\n]|\n(?!\s*\n)){1,2000})[”\"»“]")  # no blank line inside
_EDGE_PUNCTUATION = ".,;:!?"


@dataclass(frozen=True)
class CheckedQuote:
    """A quoted passage of an answer and what the verifier found.

    ``start``/``end`` locate the passage, quotation marks included, in the answer's text. When it
    verifies, ``parts`` are the exact article text with the article id and offsets into the stored
    body (several parts when an ellipsis joins them; ``Quote.source`` is the 1-based position of the
    source node it was found in) and ``source`` is that article as a citation."""

    text: str  # as the answer wrote it, without the quotation marks
    start: int
    end: int
    status: Verification
    parts: tuple[Quote, ...] = ()
    source: Source | None = None
    reason: str = ""  # why it was rejected

    @property
    def ok(self) -> bool:
        return self.status != "rejected"

    def describe(self) -> str:
        """One line for a reader: the quote, and where the article holds it or why it was rejected."""
        if not self.ok or self.source is None:
            return f"✗ “{self.text}” — not verified: {self.reason}."
        where = ", ".join(f"characters {q.start}–{q.end}" for q in self.parts)
        who = ", ".join(filter(None, (self.source.publisher, self.source.published)))
        fixed = " (typography repaired to the article's text)" if self.status == "repaired" else ""
        title = f"{self.source.title} ({who})" if who else self.source.title
        quoted = " … ".join(q.text for q in self.parts)
        return f"✓ “{quoted}” — {title}, article {self.source.article_id}, {where}{fixed}."


@dataclass(frozen=True)
class QuoteReport:
    """Every quoted passage of one answer, checked against the stored text of its sources."""

    answer: str  # the answer's text as the LLM wrote it
    quotes: tuple[CheckedQuote, ...]
    sources_checked: tuple[str, ...]  # article ids the quotes were checked against, in source-node order

    @property
    def verified(self) -> tuple[CheckedQuote, ...]:
        return tuple(q for q in self.quotes if q.ok)

    @property
    def rejected(self) -> tuple[CheckedQuote, ...]:
        return tuple(q for q in self.quotes if not q.ok)

    @property
    def all_verified(self) -> bool:
        """True when every quote verified — also when there is none (then nothing was checkable)."""
        return not self.rejected

    def shown(self, mode: Mode = "drop") -> str:
        """The answer with each rejected quote removed (``drop``: a marker in its place) or kept
        and marked ``[unverified quote]`` (``flag``); a repaired quote shows the article's exact text."""
        out, pos = [], 0
        for q in self.quotes:
            out.append(self.answer[pos : q.start])
            if q.ok:
                out.append(f"“{' … '.join(p.text for p in q.parts)}”")
            elif mode == "drop":
                out.append(CUT if q.reason in STANDALONE_REASONS else REMOVED)
            else:
                out.append(f"{self.answer[q.start : q.end]} [unverified quote]")
            pos = q.end
        out.append(self.answer[pos:])
        return "".join(out)

    def summary(self) -> str:
        """For a reader: how many quotes verified, then one line per quote."""
        if not self.quotes:
            return "The answer quotes nothing, so none of it could be checked against the articles."
        head = (f"{len(self.verified)} of {len(self.quotes)} quote(s) verified against the stored text of "
                f"{len(self.sources_checked)} retrieved article(s).")
        return "\n".join([head, *(q.describe() for q in self.quotes)])


def verify_response(response: RESPONSE_TYPE, desk: Newsdesk, *, standalone: bool = True) -> QuoteReport:
    """Check every quoted passage of a llama-index ``response`` against the stored text of the
    newsdesk articles behind its source nodes (nodes without an ``article_id`` are not sources).

    ``standalone`` (the LLM writer's rule): a quote must also start and end on word boundaries and
    hold five words or a whole sentence — a two-word phrase is found in too many texts to prove anything."""
    response = _whole(response)
    answer = response.response or ""
    articles = _source_articles(response.source_nodes, desk)
    quotes = tuple(_check(m.group(1), m.start(), m.end(), articles, standalone) for m in _QUOTED.finditer(answer))
    return QuoteReport(answer, quotes, tuple(a.id for _, a in articles))


def _source_articles(nodes: Sequence[NodeWithScore], desk: Newsdesk) -> list[tuple[int, Article]]:
    """(1-based source-node position, stored article) of each newsdesk article among ``nodes``, once."""
    articles = desk.index.articles
    found: dict[str, tuple[int, Article]] = {}
    for number, n in enumerate(nodes, start=1):
        article_id = n.node.metadata.get("article_id")
        if isinstance(article_id, str) and article_id not in found and article_id in articles:
            found[article_id] = (number, articles[article_id])
    return list(found.values())


def _check(said: str, start: int, end: int, articles: list[tuple[int, Article]], standalone: bool) -> CheckedQuote:
    """The first source whose article holds ``said`` (exactly, else up to typography; a trailing
    comma or full stop inside the marks may be the answer's own punctuation)."""
    if not articles:
        return CheckedQuote(said, start, end, "rejected", reason="no newsdesk article among the response's sources")
    variants = [v for v in dict.fromkeys([said, said.strip().strip(_EDGE_PUNCTUATION)]) if v.strip()]
    reason = "not in the stored text of any retrieved article"
    best: tuple[QuoteCheck, int, Article] | None = None
    for number, article in articles:
        for text in variants:
            check = verify(article, text, source=number)
            problem = standalone_problem(article.body, check) if check.ok and standalone else ""
            if check.ok and not problem:
                if check.status == "verified":
                    return _found(said, start, end, check, number, article)
                best = best or (check, number, article)
            reason = problem or reason
    if best is not None:
        return _found(said, start, end, *best)
    return CheckedQuote(said, start, end, "rejected", reason=reason)


def _found(said: str, start: int, end: int, check: QuoteCheck, number: int, article: Article) -> CheckedQuote:
    return CheckedQuote(said, start, end, check.status, check.parts, source_for(number, article))


def checked_response(response: RESPONSE_TYPE, desk: Newsdesk, mode: Mode = "drop", *, standalone: bool = True) -> Response:
    """``response`` with its quotes checked: the text as ``QuoteReport.shown(mode)`` gives it, the
    same source nodes, and the report in ``metadata["quote_report"]``."""
    response = _whole(response)
    report = verify_response(response, desk, standalone=standalone)
    metadata = {**(response.metadata or {}), QUOTE_REPORT: report}
    return Response(response=report.shown(mode), source_nodes=list(response.source_nodes), metadata=metadata)


def _whole(response: RESPONSE_TYPE) -> Response:
    """The response as one text: a stream read to its end, a structured response as its JSON."""
    if isinstance(response, AsyncStreamingResponse):
        raise TypeError("An async streaming response must be read first: check `await response.get_response()`.")
    if isinstance(response, StreamingResponse | PydanticResponse):
        return response.get_response()
    return response


class VerifiedQueryEngine(BaseQueryEngine):
    """Any llama-index query engine whose answers pass newsdesk's quote verifier before they are
    returned: rejected quotes removed (``drop``) or marked (``flag``), the report in the response's
    metadata (``QUOTE_REPORT``). A streaming engine's answer is collected whole first."""

    def __init__(self, engine: BaseQueryEngine, desk: Newsdesk, *, mode: Mode = "drop", standalone: bool = True) -> None:
        self.engine = engine
        self.desk = desk
        self.mode: Mode = mode
        self.standalone = standalone
        super().__init__(callback_manager=engine.callback_manager)

    def _query(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        return checked_response(self.engine.query(query_bundle), self.desk, self.mode, standalone=self.standalone)

    async def _aquery(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        response = await self.engine.aquery(query_bundle)
        if isinstance(response, AsyncStreamingResponse):
            response = await response.get_response()
        return checked_response(response, self.desk, self.mode, standalone=self.standalone)

    def _get_prompt_modules(self) -> PromptMixinType:
        return {"engine": self.engine}


class StoredTextCheck(BaseNodePostprocessor):
    """Drops (``drop=True``) or marks (metadata ``stored_text`` False) each node whose text is not
    the stored article text at its offsets — a node from another source, or one an earlier
    postprocessor rewrote — so the LLM is given, and can quote, only the archive's own words."""

    drop: bool = True
    _desk: Newsdesk = PrivateAttr()

    def __init__(self, desk: Newsdesk, drop: bool = True) -> None:
        super().__init__()
        self.drop = drop
        self._desk = desk

    @classmethod
    def class_name(cls) -> str:
        return "NewsdeskStoredTextCheck"

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        articles = self._desk.index.articles
        kept = []
        for n in nodes:
            meta = n.node.metadata
            article = articles.get(meta["article_id"]) if isinstance(meta.get("article_id"), str) else None
            start, end = meta.get("start"), meta.get("end")
            stored = (article is not None and isinstance(start, int) and isinstance(end, int)
                      and article.body[start:end] == n.node.get_content())
            if stored or not self.drop:
                n.node.metadata["stored_text"] = stored
                kept.append(n)
        return kept
