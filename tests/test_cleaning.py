from __future__ import annotations

import unicodedata

import pytest
from helpers import SEEDS

from assistant.cleaning import clean_body, normalize_text, parse_credit, repair_cp874_mojibake
from assistant.sources import read_file

SEED = SEEDS / "000_1188ee5dcc83ef1c.txt"


def test_seed_page_ingests_to_a_clean_article() -> None:
    [article] = list(read_file(SEED))
    assert article.id == "000_1188ee5dcc83ef1c"
    assert article.title == "U.S. threatens to suspend all bilateral cooperation with Russia"
    assert article.publisher == "The Washington Post"
    assert article.author == "Karen DeYoung"
    assert article.year == 2016
    assert article.published is None  # the credit line gives the year only
    assert article.body.startswith("The United States is preparing")
    assert article.body.endswith("in the Russian-U.S. accord.”")
    for gone in ("Facebook Comments", "(c) 2016", "ยท", "\n0\n", "459"):
        assert gone not in article.body
    assert article.origin.endswith("000_1188ee5dcc83ef1c.txt") and article.line == 1


def test_credit_line_is_parsed_and_mojibake_repaired() -> None:
    fixed = normalize_text("(c) 2016, The Washington Post ยท Karen DeYoung")
    assert fixed == "(c) 2016, The Washington Post · Karen DeYoung"
    credit = parse_credit(fixed)
    assert credit is not None
    assert (credit.publisher, credit.author, credit.year) == ("The Washington Post", "Karen DeYoung", 2016)
    assert parse_credit("© 2017 Reuters") is not None
    assert parse_credit("The court said (c) applies here, in section 4 of the act.") is None


@pytest.mark.parametrize(
    "thai",
    [
        "ประเทศไทยมีประชากรประมาณ 70 ล้านคน ยท",
        "กรุงเทพมหานคร ยท เชียงใหม่",
        "ยท",
    ],
)
def test_real_thai_text_is_untouched(thai: str) -> None:
    assert repair_cp874_mojibake(thai) == thai
    assert normalize_text(thai) == unicodedata.normalize("NFC", thai)


def test_common_mojibake_is_repaired_by_ftfy() -> None:
    assert normalize_text("The president’s plan") == "The president’s plan"
    assert normalize_text("cafÃ© society") == "café society"


def test_control_bidi_and_zero_width_characters_are_removed() -> None:
    dirty = "Kerry\u200b said\u202e it was\u0007 over\ufeff.\u2066x\u2069"
    assert normalize_text(dirty) == "Kerry said it was over.x"


def test_whitespace_is_tidied_but_paragraphs_kept() -> None:
    assert normalize_text("One  \t two\r\n\r\n\r\n\r\nThree\u00a0four") == "One two\n\nThree four"


def test_only_the_edges_of_a_body_are_cleaned() -> None:
    body, credit = clean_body("12 shares\nFirst line.\nComments\nThe 459 votes counted.\nFacebook Comments\n")
    assert body == "First line.\nComments\nThe 459 votes counted."
    assert credit is None
