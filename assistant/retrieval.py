"""Hybrid retrieval: BM25 + dense over chunks, fused by reciprocal rank, one hit per story,
then the sentences of the best hits ranked as evidence for the question."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from .config import Settings
from .lexical import terms
from .question import Figure, question_parts, wanted_figure
from .records import Evidence, Filters, Hit, chunk_article_id, date_key
from .store import Index, chroma_where

EVIDENCE_HITS = 5  # stories whose sentences are ranked as evidence
MORE_CHUNKS = 2  # further matching chunks of a story whose sentences are ranked too
WITHOUT_FIGURE = 0.85  # score factor of a sentence lacking the kind of figure the question asks for


@dataclass(frozen=True)
class Retrieval:
    query: str
    filters: Filters
    hits: tuple[Hit, ...]
    evidence: tuple[Evidence, ...]
    in_scope: int  # articles the filters left searchable
    confidence: float  # best evidence score against the whole searched query (for abstention)
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    parts: tuple[str, ...] = ()  # a two-part question's parts; ``evidence`` then opens with each part's best sentence

    @property
    def chunk_ids(self) -> tuple[str, ...]:
        """Every retrieved chunk in order: each story's best chunk, then its other matching ones."""
        return tuple(cid for h in self.hits for cid in (h.chunk.id, *h.more_chunks))


def resolve_publishers(index: Index, names: tuple[str, ...]) -> tuple[str, ...]:
    """Archive publishers matching the user's names (case-insensitive; exact first, then substring)."""
    known = index.manifest.publishers
    chosen: list[str] = []
    for name in names:
        want = name.strip().lower()
        exact = [p for p in known if p.lower() == want]
        chosen.extend(exact or [p for p in known if want and want in p.lower()] or [name.strip()])
    return tuple(dict.fromkeys(chosen))


def scope_mask(index: Index, filters: Filters) -> np.ndarray | None:
    """Boolean mask over the index's chunks matching ``filters`` (None: everything)."""
    if filters.empty:
        return None
    cols = index.columns
    mask = np.ones(len(index.chunk_rows), dtype=bool)
    if filters.publishers:
        mask &= np.isin(cols.publishers, list(filters.publishers))
    if filters.authors:
        mask &= np.isin(cols.authors, list(filters.authors))
    if filters.since:
        mask &= cols.dates >= (date_key(filters.since) or 0)
    if filters.until:
        mask &= (cols.dates <= (date_key(filters.until) or 0)) & (cols.dates > 0)
    return mask


def retrieve(
    index: Index, query: str, filters: Filters, settings: Settings, focus: str | None = None, latest: bool = False
) -> Retrieval:
    """Search ``query``; rank evidence sentences for ``focus`` (the question itself, when the
    query was expanded from a conversation); ``latest`` puts the newest relevant stories first."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    qvec = index.embedder.embed_query(query)
    parts = question_parts(focus or query)  # "X, and which Y?": each part gets its own best sentences
    if len(parts) > 1:
        part_vectors = index.embedder.embed_batch(parts)
    else:
        fvec = qvec if not focus or focus == query else index.embedder.embed_query(focus)
    timings["embed_query"] = time.perf_counter() - t0
    mask = scope_mask(index, filters)
    in_scope = len(index.articles) if mask is None else len(np.unique(index.chunk_rows.article_positions[mask]))
    t1 = time.perf_counter()
    dense = index.dense(qvec, settings.candidates, chroma_where(filters)) if in_scope else []
    timings["dense"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    sparse = index.sparse(terms(query), settings.candidates, mask) if in_scope else []
    timings["sparse"] = time.perf_counter() - t2
    hits = fuse(index, dense, sparse, settings)
    if latest:
        hits = newest_first(hits)
    t3 = time.perf_counter()
    top = hits[:EVIDENCE_HITS]
    if len(parts) > 1:
        evidence = merge_parts([rank_sentences(index, p, v, top, context=query) for p, v in zip(parts, part_vectors, strict=True)])
        whole = rank_sentences(index, query, qvec, top)
    else:
        evidence = rank_sentences(index, focus or query, fvec, top, context=query)
        whole = evidence if fvec is qvec else rank_sentences(index, query, qvec, top)
    confidence = whole[0].score if whole else 0.0
    timings["evidence"] = time.perf_counter() - t3
    timings["retrieve"] = time.perf_counter() - t0
    split = tuple(parts) if len(parts) > 1 else ()
    return Retrieval(query, filters, tuple(hits), tuple(evidence), in_scope, confidence, timings, split)


def fuse(index: Index, dense: list[tuple[str, float]], sparse: list[tuple[str, float]], settings: Settings) -> list[Hit]:
    """Weighted reciprocal-rank fusion, then one hit per story: syndicated copies collapse into
    the original's best chunk when the original is among the candidates, else the best copy's."""
    scores: dict[str, float] = {}
    dense_rank = {cid: r for r, (cid, _) in enumerate(dense, start=1)} if settings.dense_weight > 0 else {}
    sparse_rank = {cid: r for r, (cid, _) in enumerate(sparse, start=1)} if settings.sparse_weight > 0 else {}
    for cid, r in dense_rank.items():
        scores[cid] = scores.get(cid, 0.0) + settings.dense_weight / (settings.rrf_k + r)
    for cid, r in sparse_rank.items():
        scores[cid] = scores.get(cid, 0.0) + settings.sparse_weight / (settings.rrf_k + r)
    ranked = sorted(scores, key=lambda c: (-scores[c], c))
    best_of_article: dict[str, str] = {}
    chunks_of_article: dict[str, list[str]] = {}
    for cid in ranked:
        article_id = chunk_article_id(cid)
        best_of_article.setdefault(article_id, cid)
        chunks_of_article.setdefault(article_id, []).append(cid)
    hits: list[Hit] = []
    seen: set[str] = set()
    for cid in ranked:
        article_id = chunk_article_id(cid)
        story = index.groups.key(article_id)
        if story in seen:
            continue
        seen.add(story)
        members = index.groups.members.get(story, [article_id])
        chosen = best_of_article.get(members[0], cid)  # the original, when it was found at all
        chunk = index.chunk(chosen)
        article = index.articles[chunk.article_id]
        also = tuple(dict.fromkeys(
            index.articles[m].publisher or index.articles[m].title for m in members if m != article.id
        ))
        more = tuple(c for c in chunks_of_article.get(article.id, []) if c != chosen)[:MORE_CHUNKS]
        hits.append(Hit(chunk, article, scores[cid], dense_rank.get(chosen), sparse_rank.get(chosen), also, more))
        if len(hits) >= settings.top_k:
            break
    return hits


def merge_parts(ranked: list[list[Evidence]]) -> list[Evidence]:
    """One evidence list from each part's: scores scaled so that every part's best sentence ranks
    first (in question order), then the rest by scaled score; a sentence keeps its best score."""
    tops = [r[0].score for r in ranked if r and r[0].score > 0]
    if not tops:
        return [ev for r in ranked for ev in r]
    best: dict[tuple[str, int], tuple[float, int, Evidence]] = {}
    for order, part in enumerate(ranked):
        if not part or part[0].score <= 0:
            continue
        scale = max(tops) / part[0].score
        for ev in part:
            key = (ev.article_id, ev.start)
            scored = (ev.score * scale, -order, replace(ev, score=ev.score * scale))
            if key not in best or scored[:2] > best[key][:2]:
                best[key] = scored
    return [ev for _, _, ev in sorted(best.values(), key=lambda t: (-t[0], -t[1]))]


def newest_first(hits: list[Hit], keep: float = 0.5) -> list[Hit]:
    """Among the stories scoring at least ``keep`` of the best, the newest first (undated last)."""
    if not hits:
        return hits
    floor = hits[0].score * keep
    strong = [h for h in hits if h.score >= floor]
    strong.sort(key=lambda h: -(h.article.date_key or 0))
    return strong + [h for h in hits if h.score < floor]


def rank_sentences(
    index: Index, query: str, qvec: np.ndarray, hits: list[Hit], context: str | None = None
) -> list[Evidence]:
    """Sentences of the best hits, scored by meaning — cosine between the question and the
    sentence's contextual vector stored at index time — and by the share of the question's
    rarer words they contain (words only in the conversation ``context`` count half); when the
    question asks for a kind of figure, sentences without one score less."""
    wanted = wanted_figure(query)
    qterms = set(terms(query))
    weights = {t: index.idf(t) for t in qterms}
    for t in set(terms(context or "")) - qterms:
        weights[t] = 0.5 * index.idf(t)
    qterms = set(weights)
    total = sum(weights.values()) or 1.0
    out: list[Evidence] = []
    seen: set[tuple[str, int]] = set()
    for hit in hits:
        for chunk_id in (hit.chunk.id, *hit.more_chunks):
            out.extend(_score_chunk(index, hit, chunk_id, qvec, qterms, weights, total, seen, wanted))
    out.sort(key=lambda ev: -ev.score)
    return out


def _score_chunk(
    index: Index, hit: Hit, chunk_id: str, qvec: np.ndarray, qterms: set[str], weights: dict[str, float],
    total: float, seen: set[tuple[str, int]], figure: Figure | None = None,
) -> list[Evidence]:
    rows, vectors = index.sentences(chunk_id)
    if not len(rows):
        return []
    cosines = np.asarray(vectors, dtype=np.float32) @ qvec
    body = hit.article.body
    out = []
    for (_, s, e), cos in zip(rows, cosines, strict=True):
        if (hit.article.id, int(s)) in seen:  # a sentence shared by overlapping chunks
            continue
        seen.add((hit.article.id, int(s)))
        text = body[s:e]
        coverage = sum(weights[t] for t in set(terms(text)) & qterms) / total
        score = 0.7 * float(cos) + 0.3 * coverage
        if figure is not None and not figure.search(text):
            score *= WITHOUT_FIGURE  # the question asks for a number, share, price or date this sentence lacks
        out.append(Evidence(hit.article.id, int(s), int(e), text, score))
    return out
