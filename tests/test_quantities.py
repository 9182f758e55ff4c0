""""The sources disagree" only when two stories give different values for the same quantity: the
same kind and unit, the same subject in the sentence. Near-miss pairs must not trigger it."""

from __future__ import annotations

import pytest

from assistant.composer import disagreement
from assistant.quantities import quantities, value_of
from assistant.records import Quote, Source


def _said(question: str, first: str, second: str) -> str:
    quotes = [Quote("a", 0, len(first), first, 1), Quote("b", 0, len(second), second, 2)]
    sources = {
        "a": Source(1, "a", "A story", "Valley Herald", None, "2016-08-02", None, "a.jsonl"),
        "b": Source(2, "b", "B story", "State Wire", None, "2016-08-04", None, "b.jsonl"),
    }
    return disagreement(question, quotes, sources)


@pytest.mark.parametrize(
    ("question", "first", "second"),
    [
        ("How many homes did the Ridgeview wildfire destroy?",
         "The Ridgeview wildfire destroyed 120 homes, the fire chief said.",
         "State officials said the Ridgeview wildfire destroyed 95 homes, fewer than first reported."),
        ("How much did the Ridgeview bridge repair cost?",
         "The Ridgeview bridge repair cost $4 million, the county said.",
         "The county put the cost of the Ridgeview bridge repair at $5.5 million."),
        ("What share of Ridgeview voters backed the levy?",
         "The levy was backed by 54 percent of Ridgeview voters.",
         "Final returns show 51% of Ridgeview voters backed the levy."),
    ],
)
def test_different_values_of_the_same_quantity_disagree(question: str, first: str, second: str) -> None:
    said = _said(question, first, second)
    assert said.startswith("The sources disagree: Valley Herald (2016-08-02) gives ")
    assert "[1]; State Wire (2016-08-04) gives " in said and said.endswith("[2].")


@pytest.mark.parametrize(
    ("question", "first", "second"),
    [
        # different counted things: homes and people
        ("How many homes did the Ridgeview wildfire destroy?",
         "The Ridgeview wildfire destroyed 120 homes, the fire chief said.",
         "The Ridgeview wildfire killed 3 people and injured others."),
        # different kinds: a count and an amount of money
        ("How many homes did the Ridgeview wildfire destroy?",
         "The Ridgeview wildfire destroyed 120 homes, the fire chief said.",
         "Damage from the Ridgeview wildfire is put at $40 million."),
        # the same unit but another subject: homes built elsewhere, not homes the fire destroyed
        ("How many homes did the Ridgeview wildfire destroy?",
         "The Ridgeview wildfire destroyed 120 homes, the fire chief said.",
         "Meanwhile 95 homes went up in Lakeside last year."),
        # two shares of different things: unemployment and growth
        ("What was the unemployment rate in New Zealand?",
         "Unemployment in New Zealand has fallen to 5 percent this year.",
         "New Zealand's economy grew 3 percent last year, officials said."),
        # one value written two ways
        ("How much did the Ridgeview bridge repair cost?",
         "The Ridgeview bridge repair cost $4 million, the county said.",
         "The Ridgeview bridge repair cost $4,000,000 in all."),
        # a question asking for a date compares no figures
        ("When did the Ridgeview wildfire destroy the homes?",
         "On Monday the Ridgeview wildfire destroyed 120 homes.",
         "On Monday the Ridgeview wildfire destroyed 95 homes."),
        # a figure and a year are not two values of one quantity
        ("How many homes did the Ridgeview wildfire destroy?",
         "The Ridgeview wildfire destroyed 120 homes, the fire chief said.",
         "It was the worst Ridgeview wildfire since 2009, and it destroyed homes."),
    ],
)
def test_near_misses_do_not_disagree(question: str, first: str, second: str) -> None:
    assert _said(question, first, second) == ""


def test_quantities_carry_kind_unit_value_and_subject() -> None:
    found = quantities("In 2016 the Ridgeview wildfire destroyed 1,200 homes and cost $4.5 million.",
                       "How many homes did the Ridgeview wildfire destroy?")
    by_kind = {q.kind: q for q in found}
    assert set(by_kind) == {"number", "money"}  # the year is no quantity
    assert by_kind["number"].text == "1,200" and by_kind["number"].value == 1200
    assert "home" in by_kind["number"].unit and "home" not in by_kind["number"].subject
    assert {"ridgeview", "destroy"} <= by_kind["number"].subject
    assert by_kind["money"].value == 4_500_000 and by_kind["money"].unit == frozenset({"dollar"})


@pytest.mark.parametrize(("text", "value"), [("1,200", 1200.0), ("$4.5 million", 4.5e6), ("12%", 12.0), ("£3bn", 3e9),
                                              ("between 90 and 100", None)])
def test_values(text: str, value: float | None) -> None:
    assert value_of(text) == value
