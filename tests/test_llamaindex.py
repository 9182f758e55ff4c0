"""newsdesk in llama-index: NewsdeskRetriever gives the product's hits as nodes with offsets into the
stored text, works in a real RetrieverQueryEngine, and the quote check keeps what the articles say
and removes or flags what they do not. The LLM is a scripted llama-index CustomLLM (no useful model
runs here); everything else is real: the encoder, Chroma, the index and llama-index's classes."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, desk_of
from llama_index.core.base.llms.types import CompletionResponse, CompletionResponseGen, LLMMetadata
from llama_index.core.base.response.schema import Response, StreamingResponse
from llama_index.core.bridge.pydantic import Field
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle, TextNode

from assistant.chat import Newsdesk
from assistant.embedding import SentenceTransformerEmbedder
from assistant.errors import IndexMissingError
from assistant.generation import REMOVED
from assistant.llamaindex import (
    QUOTE_REPORT,
    NewsdeskRetriever,
    QuoteReport,
    StoredTextCheck,
    VerifiedQueryEngine,
    verify_response,
)
from assistant.records import Filters, Quote

FERRY = (
    "The harbor ferry service will resume on June 3 after a two-year suspension, the port authority announced on Monday. "
    "The authority’s director, Ines Varga, said three new hybrid vessels had passed their sea trials. "
    "Tickets will cost $4.50 for adults, the same fare as before the suspension. "
    "Commuters had crowded onto buses and the coastal rail line while the ferries were out of service."
)
COPY = FERRY.replace("announced on Monday", "said Monday").replace("Tickets will cost", "A ticket will cost") + (
    "\n\n(c) 2019, Coastal Herald · Dana Whitfield"
)
ARTICLES = [
    {"id": "ferry", "title": "Harbor ferry to return in June", "body": FERRY, "publisher": "Coastal Herald",
     "author": "Dana Whitfield", "published_at": "2019-05-14", "url": "https://coastal.example/ferry"},
    {"id": "ferry-copy", "title": "Ferries are back", "body": COPY, "publisher": "Wire Digest", "published_at": "2019-05-15"},
    {"id": "orchard", "title": "Late frost hits valley orchards", "publisher": "Valley Gazette", "published_at": "2019-04-02",
     "body": "A late frost destroyed about a third of the apple blossoms in the valley, growers said on Tuesday. "
             "The county extension office estimated losses at $12 million."},
    {"id": "stadium", "title": "Council backs stadium plan", "publisher": "Valley Gazette", "published_at": "2019-05-20",
     "body": "The county council voted 7 to 2 to fund a new stadium beside the river. "
             "Opponents said the money should have gone to repairing rural roads."},
    {"id": "library", "title": "Library adds evening hours", "publisher": "Coastal Herald", "published_at": "2019-03-11",
     "body": "The central library will stay open until 9 p.m. on weekdays from April, the library board announced."},
]
QUESTION = "When will the harbor ferry service resume?"
REAL = "The harbor ferry service will resume on June 3 after a two-year suspension, the port authority announced on Monday."
TYPED = "The authority's director, Ines Varga, said three new hybrid vessels had passed their sea trials."  # straight apostrophe
MADE_UP = "Children under twelve will ride the ferry free of charge all summer."
ANSWER = (f"The ferry returns in June: “{REAL}” The port authority added that “{TYPED}” "
          f"It also said: “{MADE_UP}”")


class ScriptedLLM(CustomLLM):
    """A llama-index LLM that answers every prompt with ``text`` and keeps the prompts it was given."""

    text: str = ""
    prompts: list[str] = Field(default_factory=list)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="scripted", is_chat_model=False)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        self.prompts.append(prompt)
        return CompletionResponse(text=self.text)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        self.prompts.append(prompt)
        yield CompletionResponse(text=self.text, delta=self.text)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Newsdesk:
    return desk_of(tmp_path_factory.mktemp("coast"), ARTICLES, embedder)


def test_nodes_are_the_products_hits_with_offsets_into_the_stored_text(desk: Newsdesk) -> None:
    nodes = NewsdeskRetriever(desk).retrieve(QUESTION)
    hits = desk.search(QUESTION).retrieval.hits
    assert [n.node.node_id for n in nodes] == [h.chunk.id for h in hits]  # stable ids: the chunk ids
    assert [n.score for n in nodes] == [h.score for h in hits]
    assert tuple(n.node.metadata["article_id"] for n in nodes) == desk.ask(QUESTION).retrieved
    for n in nodes:
        meta, text = n.node.metadata, n.node.get_content()
        body = desk.index.articles[meta["article_id"]].body
        assert body[meta["start"] : meta["end"]] == text
        assert (n.node.start_char_idx, n.node.end_char_idx) == (meta["start"], meta["end"])
        assert n.node.ref_doc_id == meta["article_id"]
        for ev in meta["evidence"]:
            assert body[ev["start"] : ev["end"]] == ev["text"]
    top = nodes[0].node.metadata
    assert (top["article_id"], top["title"], top["publisher"], top["date"]) == (
        "ferry", "Harbor ferry to return in June", "Coastal Herald", "2019-05-14")
    assert top["story_group"] == "ferry" and top["also_published_by"] == ["Wire Digest"]  # the copy folds into the original
    assert "ferry-copy" not in [n.node.metadata["article_id"] for n in nodes]
    assert top["evidence"][0]["text"] == REAL and top["evidence_score"] == top["evidence"][0]["score"]


def test_filters_restrict_the_search_as_the_cli_options_do(desk: Newsdesk) -> None:
    nodes = NewsdeskRetriever(desk, filters=Filters(publishers=("valley gazette",))).retrieve("What did the council vote for?")
    assert nodes and {n.node.metadata["publisher"] for n in nodes} == {"Valley Gazette"}
    assert nodes[0].node.metadata["filters"] == "publisher Valley Gazette"
    named = NewsdeskRetriever(desk).retrieve("What did the Valley Gazette report about the stadium?")  # parsed as ask does
    assert {n.node.metadata["publisher"] for n in named} == {"Valley Gazette"}
    assert named[0].node.metadata["search_notes"] == ["Searched only articles from Valley Gazette, named in the question."]


def test_no_arguments_open_the_live_index_named_by_the_settings(
    desk: Newsdesk, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSDESK_INDEX_DIR", str(desk.settings.index_dir))
    retriever = NewsdeskRetriever()
    assert retriever.desk.settings.index_dir == desk.settings.index_dir
    assert [n.node.node_id for n in retriever.retrieve(QUESTION)] == [n.node.node_id for n in NewsdeskRetriever(desk).retrieve(QUESTION)]
    monkeypatch.setenv("NEWSDESK_INDEX_DIR", str(tmp_path / "none"))
    with pytest.raises(IndexMissingError, match="newsdesk index rebuild"):
        NewsdeskRetriever()  # said when it is made, not at the first question


def test_nodes_carry_newsdeks_judgement_and_abstain_on_request(desk: Newsdesk) -> None:
    """A question the archive answers is judged answered on every node; one it covers without the
    asked fact (no stadium cost is given) is judged not answered, and with ``abstain=True`` the
    retriever then returns nothing, so no LLM answers from the near miss."""
    answered = NewsdeskRetriever(desk).retrieve(QUESTION)
    assert {n.node.metadata["answerability"]["outcome"] for n in answered} == {"answered"}
    near_miss = "How much will the new stadium beside the river cost?"
    related = NewsdeskRetriever(desk).retrieve(near_miss)
    assert related and related[0].node.metadata["article_id"] == "stadium"
    judged = related[0].node.metadata["answerability"]
    assert judged["outcome"] == "not_answered" and judged["reason"]
    assert judged == desk_judgement(desk, near_miss)
    assert "answerability" not in related[0].node.get_content(metadata_mode=MetadataMode.LLM)
    assert NewsdeskRetriever(desk, abstain=True).retrieve(near_miss) == []
    assert [n.node.node_id for n in NewsdeskRetriever(desk, abstain=True).retrieve(QUESTION)] == [n.node.node_id for n in answered]
    engine = RetrieverQueryEngine.from_args(NewsdeskRetriever(desk, abstain=True), llm=ScriptedLLM(text=ANSWER))
    assert "Empty Response" in str(engine.query(near_miss))


def desk_judgement(desk: Newsdesk, question: str) -> dict[str, Any]:
    """The judgement ``newsdesk ask`` takes for ``question``, as a node carries it."""
    from assistant.answering import judge

    j = judge(question, desk.search(question).retrieval, desk.settings, desk.index.idf)
    return {"outcome": j.outcome, "reason": j.reason, "score": None if j.score is None else round(j.score, 4)}


def _engine(desk: Newsdesk, text: str = ANSWER, streaming: bool = False) -> tuple[RetrieverQueryEngine, ScriptedLLM]:
    llm = ScriptedLLM(text=text)
    return RetrieverQueryEngine.from_args(NewsdeskRetriever(desk), llm=llm, streaming=streaming), llm


def test_a_query_engine_answer_keeps_verified_quotes_and_drops_made_up_ones(desk: Newsdesk) -> None:
    engine, llm = _engine(desk)
    response = VerifiedQueryEngine(engine, desk).query(QUESTION)
    prompt = llm.prompts[0]
    assert FERRY[:80] in prompt and "Coastal Herald" in prompt  # the LLM was given the node text and its source
    assert "evidence" not in prompt and "story_group" not in prompt  # the rest of the metadata is not shown to it
    report: QuoteReport = response.metadata[QUOTE_REPORT]
    body = desk.index.articles["ferry"].body
    real, typed, made_up = report.quotes
    assert real.status == "verified" and real.parts == (Quote("ferry", body.index(REAL), body.index(REAL) + len(REAL), REAL, 1),)
    assert typed.status == "repaired" and body[typed.parts[0].start : typed.parts[0].end] == TYPED.replace("'", "’")
    assert made_up.status == "rejected" and made_up.parts == () and "not in the stored text" in made_up.reason
    assert str(response).count("“") == 2 and MADE_UP not in str(response) and REMOVED in str(response)
    assert TYPED.replace("'", "’") in str(response)  # shown as the article writes it
    assert response.source_nodes[0].node.node_id == "ferry#0"
    summary = report.summary()
    assert summary.startswith("2 of 3 quote(s) verified") and f"characters {body.index(REAL)}–" in summary
    assert "✗ “Children under twelve" in summary


def test_flag_mode_keeps_the_text_and_marks_what_did_not_verify(desk: Newsdesk) -> None:
    engine, _ = _engine(desk)
    response = VerifiedQueryEngine(engine, desk, mode="flag").query(QUESTION)
    assert f"“{MADE_UP}” [unverified quote]" in str(response) and f"“{REAL}”" in str(response)
    assert not response.metadata[QUOTE_REPORT].all_verified


def test_streaming_and_async_engines_are_checked_too(desk: Newsdesk) -> None:
    streamed, _ = _engine(desk, streaming=True)
    assert isinstance(streamed.query(QUESTION), StreamingResponse)
    for response in (VerifiedQueryEngine(streamed, desk).query(QUESTION),
                     asyncio.run(VerifiedQueryEngine(_engine(desk)[0], desk).aquery(QUESTION))):
        assert isinstance(response, Response) and MADE_UP not in str(response) and f"“{REAL}”" in str(response)
        assert [q.status for q in response.metadata[QUOTE_REPORT].quotes] == ["verified", "repaired", "rejected"]


def test_a_response_checked_directly_and_its_short_quotes(desk: Newsdesk) -> None:
    engine, _ = _engine(desk, text="The port authority called it a “two-year suspension” and said: “" + REAL + "”")
    report = verify_response(engine.query(QUESTION), desk)
    short, whole = report.quotes
    assert short.status == "rejected" and short.reason == "shorter than five words"  # proves nothing on its own
    assert whole.ok and whole.source is not None and whole.source.article_id == "ferry"
    assert verify_response(engine.query(QUESTION), desk, standalone=False).all_verified


def test_nodes_whose_text_is_not_the_stored_text_are_dropped_or_marked(desk: Newsdesk) -> None:
    nodes = NewsdeskRetriever(desk).retrieve(QUESTION)
    altered = nodes[0].node.model_copy()
    altered.set_content(nodes[0].node.get_content().replace("June 3", "July 3"))
    stranger = NodeWithScore(node=TextNode(text=REAL, metadata={"article_id": "nowhere", "start": 0, "end": len(REAL)}), score=1.0)
    given: Sequence[NodeWithScore] = [NodeWithScore(node=altered, score=1.0), *nodes[1:], stranger]
    kept = StoredTextCheck(desk).postprocess_nodes(list(given), QueryBundle(QUESTION))
    assert [n.node.node_id for n in kept] == [n.node.node_id for n in nodes[1:]]
    marked = StoredTextCheck(desk, drop=False).postprocess_nodes(list(given), QueryBundle(QUESTION))
    assert [n.node.metadata["stored_text"] for n in marked] == [False, *[True] * len(nodes[1:]), False]


def test_the_cli_and_the_chat_do_not_import_llama_index() -> None:
    code = "import sys, assistant.cli, assistant.chat; print(sorted(m for m in sys.modules if m.startswith(('llama_index', 'assistant.llamaindex'))))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_recipe_in_the_docs_runs_as_written(desk: Newsdesk, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Python block of docs/llamaindex.md, in order, with the scripted LLM in place of the endpoint's."""
    monkeypatch.setenv("NEWSDESK_INDEX_DIR", str(desk.settings.index_dir))
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "docs" / "llamaindex.md").read_text(encoding="utf-8"), re.S)
    endpoint = re.compile(r"llm = OpenAILike\(.*\)")
    assert len(blocks) >= 3 and sum(bool(endpoint.search(b)) for b in blocks) == 1
    names: dict[str, Any] = {"question": QUESTION, "ScriptedLLM": ScriptedLLM, "ANSWER": ANSWER}
    for block in blocks:
        exec(endpoint.sub("llm = ScriptedLLM(text=ANSWER)", block), names)
    assert names["report"].summary().startswith("2 of 3 quote(s) verified")
    assert f"“{MADE_UP}” [unverified quote]" in str(names["response"])  # the last block's flag mode
