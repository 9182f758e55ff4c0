#!/usr/bin/env python3
"""Validate the newsdesk evaluation question sets (stdlib only).

Loads every *.jsonl under seeds/ and evals/ of the repository, checks the
schema of each question and that every evidence quote is an exact substring
of its article's text, then prints counts by type and the number of distinct
evidence articles.

Article text comes from (not copied into this repo):
  * Horne & Adali (2017) archive: tests/data/horne2017/articles.jsonl
    (override with --articles or NEWSDESK_ARTICLES), looked up by "id";
  * seed articles: seeds/<article_id>.txt (override with --seeds-dir
    or NEWSDESK_SEEDS_DIR), falling back to the repo's seeds/<article_id>.txt;
    the quote must be a substring of the file text.

Exit status is 1 if any error was found, 0 otherwise (warnings do not fail).
"""
import argparse
import collections
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ARTICLES = ROOT / "tests" / "data" / "horne2017" / "articles.jsonl"
DEFAULT_SEEDS_DIR = ROOT / "seeds"
SET_DIRS = ("seeds", "evals")

REQUIRED = ("id", "question", "answer", "evidence", "type")
TYPES = ("single", "multi", "null", "followup")
QUOTE_MIN, QUOTE_MAX = 40, 300
COPY_NGRAM = 8  # warn if the question shares this many consecutive words with a quote


def load_articles(path):
    arts = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            a = json.loads(line)
            arts[a["id"]] = a
    return arts


def words(s):
    return re.findall(r"[a-z0-9']+", s.lower().replace("\u2019", "'"))


def shared_ngram(a, b, n):
    wa, wb = words(a), words(b)
    grams = {tuple(wb[i:i + n]) for i in range(len(wb) - n + 1)}
    for i in range(len(wa) - n + 1):
        if tuple(wa[i:i + n]) in grams:
            return " ".join(wa[i:i + n])
    return None


def question_lines(path, label, err):
    """(where, record) for each non-blank JSONL line of ``path`` that is a JSON object; ``err(where,
    message)`` hears of every other line. ``label`` names the file in ``where`` ("name:line")."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{label}:{n}"
            try:
                q = json.loads(line)
            except json.JSONDecodeError as ex:
                err(where, f"invalid JSON: {ex}")
                continue
            if not isinstance(q, dict):
                err(where, "line is not a JSON object")
                continue
            yield where, q


class Checker:
    def __init__(self, articles, seeds_dir):
        self.articles = articles
        self.seeds_dir = Path(seeds_dir)
        self.seed_cache = {}
        self.errors = []
        self.warnings = []

    def err(self, where, msg):
        self.errors.append(f"{where}: {msg}")

    def warn(self, where, msg):
        self.warnings.append(f"{where}: {msg}")

    def article_text(self, aid):
        """Return (text, label) for an article id, or (None, None)."""
        if aid in self.articles:
            a = self.articles[aid]
            return a["body"], a.get("label")
        if aid not in self.seed_cache:
            self.seed_cache[aid] = None
            for d in (self.seeds_dir, ROOT / "seeds"):  # shared seeds first, then the repo's copy
                p = d / f"{aid}.txt"
                if p.is_file():
                    self.seed_cache[aid] = p.read_text(encoding="utf-8")
                    break
        text = self.seed_cache[aid]
        return (text, "seed") if text is not None else (None, None)

    def check_question(self, where, q, seen_ids):
        for k in REQUIRED:
            if k not in q:
                self.err(where, f"missing key {k!r}")
        extra = set(q) - set(REQUIRED) - {"history"}
        if extra:
            self.err(where, f"unexpected keys {sorted(extra)}")
        qid, typ = q.get("id"), q.get("type")
        if not isinstance(qid, str) or not qid:
            self.err(where, "id must be a non-empty string")
        elif qid in seen_ids:
            self.err(where, f"duplicate id {qid!r} (also in {seen_ids[qid]})")
        else:
            seen_ids[qid] = where
        if typ not in TYPES:
            self.err(where, f"type {typ!r} not one of {TYPES}")
        if not isinstance(q.get("question"), str) or not q.get("question", "").strip():
            self.err(where, "question must be a non-empty string")
        ans = q.get("answer")
        if not isinstance(ans, str):
            self.err(where, "answer must be a string")
            ans = ""
        ev = q.get("evidence")
        if not isinstance(ev, list):
            self.err(where, "evidence must be a list")
            ev = []

        # type-specific rules
        if typ == "null":
            if ev:
                self.err(where, "null question must have empty evidence")
            if ans != "":
                self.err(where, 'null question must have answer ""')
        elif typ in TYPES:
            if not ev:
                self.err(where, f"{typ} question needs evidence")
            if not ans.strip():
                self.err(where, f"{typ} question needs a non-empty answer")
        if typ == "multi":
            ids = [e.get("article_id") for e in ev if isinstance(e, dict)]
            if len(ev) != 2 or len(set(ids)) != 2:
                self.err(where, "multi question needs exactly two evidence entries from two different articles")
        if typ == "followup":
            h = q.get("history")
            if not isinstance(h, list) or not h or not all(isinstance(x, str) and x.strip() for x in h):
                self.err(where, "followup question needs a non-empty 'history' list of strings")
        elif "history" in q:
            self.err(where, "'history' is only allowed on followup questions")

        # evidence quotes
        for i, e in enumerate(ev):
            w = f"{where} evidence[{i}]"
            if not isinstance(e, dict) or set(e) != {"article_id", "quote"}:
                self.err(w, "evidence entry must be {article_id, quote}")
                continue
            aid, quote = e["article_id"], e["quote"]
            if not isinstance(quote, str) or not quote:
                self.err(w, "quote must be a non-empty string")
                continue
            text, label = self.article_text(aid)
            if text is None:
                self.err(w, f"unknown article_id {aid!r}")
                continue
            if label not in ("real", "seed"):
                self.err(w, f"evidence article {aid!r} has label {label!r}; only 'real' articles may be cited")
            if quote not in text:
                self.err(w, f"quote is not an exact substring of {aid}: {quote[:70]!r}")
            if not QUOTE_MIN <= len(quote) <= QUOTE_MAX:
                self.warn(w, f"quote length {len(quote)} outside {QUOTE_MIN}-{QUOTE_MAX}")
            ng = shared_ngram(q.get("question", ""), quote, COPY_NGRAM)
            if ng:
                self.warn(w, f"question copies a {COPY_NGRAM}-word phrase from the quote: {ng!r}")
        if typ in ("single", "followup") and ev and ans and not any(
            ans.lower() in e.get("quote", "").lower() for e in ev if isinstance(e, dict)
        ):
            self.warn(where, f"answer {ans!r} does not appear in its quote")
        if typ == "multi" and ev and ans:
            quotes = " ".join(e.get("quote", "") for e in ev if isinstance(e, dict)).lower()
            missing = [p.strip() for p in ans.split(";") if p.strip() and p.strip().lower() not in quotes]
            if missing:
                self.warn(where, f"answer parts {missing} do not appear in the quotes")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", default=os.environ.get("NEWSDESK_ARTICLES", str(DEFAULT_ARTICLES)))
    ap.add_argument("--seeds-dir", default=os.environ.get("NEWSDESK_SEEDS_DIR", str(DEFAULT_SEEDS_DIR)))
    ap.add_argument("-q", "--quiet", action="store_true", help="do not print warnings")
    args = ap.parse_args()

    articles = load_articles(args.articles)
    ck = Checker(articles, args.seeds_dir)
    # the near-miss sets have their own checker (check_nearmiss.py): it greps all three archives
    files = sorted(p for d in SET_DIRS for p in (ROOT / d).glob("*.jsonl") if not p.name.startswith("nearmiss_") and p.name != "examples.jsonl")  # not seeds/demo/
    if not files:
        print("no *.jsonl question sets found under", ", ".join(SET_DIRS))
        return 1

    seen_ids = {}
    total_types = collections.Counter()
    all_arts = set()
    for path in files:
        rel = path.relative_to(ROOT)
        types = collections.Counter()
        arts = set()
        for where, q in question_lines(path, rel, ck.err):
            ck.check_question(where, q, seen_ids)
            types[q.get("type")] += 1
            for e in q.get("evidence") or []:
                if isinstance(e, dict) and "article_id" in e:
                    arts.add(e["article_id"])
        total_types += types
        all_arts |= arts
        n = sum(types.values())
        parts = ", ".join(f"{t}={types.get(t, 0)} ({100 * types.get(t, 0) / n:.0f}%)" for t in TYPES) if n else ""
        print(f"{rel}: {n} questions; {parts}; distinct evidence articles={len(arts)}")

    n = sum(total_types.values())
    print(f"TOTAL: {n} questions; " + ", ".join(f"{t}={total_types.get(t, 0)}" for t in TYPES)
          + f"; distinct evidence articles={len(all_arts)}")
    if ck.warnings and not args.quiet:
        print(f"\n{len(ck.warnings)} warning(s):")
        for w in ck.warnings:
            print("  WARN", w)
    if ck.errors:
        print(f"\n{len(ck.errors)} error(s):")
        for e in ck.errors:
            print("  ERROR", e)
        return 1
    print("\nOK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
