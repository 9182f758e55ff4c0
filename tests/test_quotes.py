"""The verifier every quote passes: exact quotes verify, altered ones never do."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from assistant.quotes import _ELLIPSIS as ELLIPSIS
from assistant.quotes import fold, verify
from assistant.records import Article

WORDS = st.sampled_from(
    ["the", "Senate", "voted", "on", "Tuesday", "to", "pass", "250,000", "civilians", "“trapped”", "in", "Aleppo", "—", "Kerry’s", "statement", "said", "U.S.", "officials", "were", "preparing", "a", "cease-fire;", "Russia", "denied", "it", "…", "12", "percent", "of", "voters"]
)
BODIES = st.lists(WORDS, min_size=8, max_size=80).map(" ".join)


def art(body: str) -> Article:
    return Article("a", "t", body, None, None, None, None, None, "mem", 1)


@st.composite
def body_and_span(draw: st.DrawFn) -> tuple[str, int, int]:
    body = draw(BODIES)
    start = draw(st.integers(0, len(body) - 2))
    end = draw(st.integers(start + 1, len(body)))
    assume(body[start:end].strip() == body[start:end] and body[start:end])
    return body, start, end


@settings(max_examples=300, deadline=None)
@given(body_and_span())
def test_every_exact_quote_verifies(case: tuple[str, int, int]) -> None:
    body, start, end = case
    check = verify(art(body), body[start:end], start, end, source=1)
    assert check.status == "verified"
    [q] = check.parts
    assert (q.start, q.end, q.text) == (start, end, body[start:end])


@settings(max_examples=300, deadline=None)
@given(body_and_span())
def test_text_only_quotes_are_located_exactly(case: tuple[str, int, int]) -> None:
    body, start, end = case
    check = verify(art(body), body[start:end])
    assert check.status == "verified"
    assert all(body[q.start : q.end] == q.text == body[start:end] for q in check.parts)


@settings(max_examples=500, deadline=None)
@given(body_and_span(), st.data())
def test_no_altered_quote_ever_verifies(case: tuple[str, int, int], data: st.DataObject) -> None:
    body, start, end = case
    quote = body[start:end]
    i = data.draw(st.integers(0, len(quote) - 1))
    kind = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    letter = data.draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"))
    if kind == "replace":
        altered = quote[:i] + letter + quote[i + 1 :]
    elif kind == "insert":
        altered = quote[:i] + letter + quote[i:]
    else:
        altered = quote[:i] + quote[i + 1 :]
    assume(altered.strip() and fold(altered)[0] != fold(quote)[0])
    check = verify(art(body), altered, start, end)
    for q in check.parts:  # whatever happens, nothing shown differs from the article
        assert body[q.start : q.end] == q.text
    if fold(altered.strip())[0] in fold(body)[0]:
        return  # the altered text happens to occur in the article: it is genuine article text
    parts = [p for p in ELLIPSIS.split(altered.strip()) if p.strip()]
    if len(parts) > 1 and check.ok:
        # An ellipsis elides: accepted only as parts that are each article text, in order, shown with "…".
        assert check.status == "repaired" and len(check.parts) == len(parts)
        assert [fold(q.text)[0] for q in check.parts] == [fold(p.strip())[0] for p in parts]
        assert all(a.end <= b.start for a, b in zip(check.parts, check.parts[1:], strict=False))
    else:
        assert check.status == "rejected" and check.parts == ()


def test_typographic_variants_are_repaired_to_the_exact_text() -> None:
    body = "Kerry “expressed grave concern over the deteriorating situation in Syria,” Kirby said — late."
    check = verify(art(body), 'Kerry "expressed  grave concern over the deteriorating situation in Syria," Kirby said - late.')
    assert check.status == "repaired"
    [q] = check.parts
    assert q.text == body and (q.start, q.end) == (0, len(body))


def test_wrong_offsets_are_relocated() -> None:
    body = "First sentence here. The vote passed 52 to 48 on Tuesday."
    check = verify(art(body), "The vote passed 52 to 48 on Tuesday.", 0, 10)
    assert check.status == "repaired" and check.parts[0].start == body.index("The vote")


def test_ellipsis_needs_every_part_in_order() -> None:
    body = "The Senate voted on Tuesday to pass the bill. Critics said it would cost billions over a decade."
    ok = verify(art(body), "The Senate voted on Tuesday … cost billions over a decade.")
    assert ok.status == "repaired" and len(ok.parts) == 2 and ok.text.count("…") == 1
    assert all(body[q.start : q.end] == q.text for q in ok.parts)
    assert verify(art(body), "cost billions over a decade … The Senate voted on Tuesday").status == "rejected"
    assert verify(art(body), "The Senate voted on Tuesday … it would save billions").status == "rejected"
    assert verify(art(body), "The Senate ... bill.").status == "rejected"  # parts too short to prove anything


def test_fabricated_quote_is_rejected() -> None:
    body = "The council approved the budget."
    assert verify(art(body), "The council rejected the budget.").status == "rejected"
    assert verify(art(body), "   ").status == "rejected"


def test_llm_quotes_must_stand_on_their_own() -> None:
    """Five words or a whole sentence, on word boundaries, ellipsis parts close together (the
    LLM writer's quotes only; the offline answer quotes whole evidence sentences)."""
    from assistant.quotes import standalone_problem

    body = (
        "Kerry’s aides said pro-Russian forces attacked the convoy near the city. Nobody resigned. "
        "The talks resumed. Officials met again. A deal was signed. Aid finally reached the eastern districts on Friday."
    )

    def problem(text: str) -> str:
        check = verify(art(body), text)
        assert check.ok, text  # every one of these is article text: the verifier alone accepts it
        return standalone_problem(body, check)

    assert problem("a") == problem("aides said pro-Russian forc") == problem("Russian forces attacked the convoy") == "cut inside a word"
    assert problem("Kerry") == "cut inside a word"  # Kerry’s
    assert problem("attacked the convoy") == "shorter than five words"
    assert problem("Nobody resigned.") == problem("Nobody resigned") == ""  # a whole sentence
    assert problem("pro-Russian forces attacked the convoy near the city") == ""
    assert problem("forces attacked the convoy near … Nobody resigned.") == ""
    assert problem("forces attacked the convoy near … the eastern districts on Friday") == "joins parts too far apart"
    assert problem("forces attacked the convoy near … the city. Nobody resigned.") == "shorter than five words"
