"""Chinese text handling shared by both backends: runs, grams, synonyms, highlights."""

from __future__ import annotations

import pytest

from search import text as tx


def test_runs_split_on_anything_but_letters_and_digits_and_normalise_width_and_case():
    assert tx.runs("巫山脆李 5斤/箱") == ["巫山脆李", "5斤", "箱"]
    assert tx.runs("ＡＢＣ１２３，Kiwi") == ["abc123", "kiwi"]
    assert tx.runs('" * ? : \\ / ( ) [ ] { } ^ ~') == []


def test_grams_are_every_unigram_and_bigram_of_a_run():
    assert tx.grams("脆李") == ["脆", "李", "脆李"]
    assert set(tx.gram_set(["巫山脆李", "李子"])) == {"巫", "山", "脆", "李", "子", "巫山", "山脆", "脆李", "李子"}


def test_short_terms_are_one_gram_and_long_terms_their_bigrams():
    assert tx.query_grams("李") == ["李"]
    assert tx.query_grams("脆李") == ["脆李"]
    assert tx.query_grams("西红柿") == ["西红", "红柿"]


def test_fts_tokens_encode_each_run_as_bigrams_then_its_last_character():
    encoded = tx.fts_text(["脆李", "米"])
    assert encoded.split(" ") == [f"{ord('脆'):06x}{ord('李'):06x}", f"{ord('李'):06x}", f"{ord('米'):06x}"]
    assert tx.fts_term("李") == f"{ord('李'):06x}*"
    assert tx.fts_term("西红柿") == f'"{ord("西"):06x}{ord("红"):06x} {ord("红"):06x}{ord("柿"):06x}"'


def test_synonyms_come_from_the_file_in_the_repository():
    lines = [line.strip() for line in tx.SYNONYMS_PATH.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert tx.synonym_lines() == lines
    assert "番茄,西红柿" in lines


@pytest.mark.parametrize(("term", "expected"), [
    ("番茄", {"番茄", "西红柿"}),
    ("西红柿", {"西红柿", "番茄"}),
    ("土豆", {"土豆", "马铃薯", "洋芋"}),
    ("鲁渝番茄", {"鲁渝番茄", "鲁渝西红柿"}),
    ("脆李", {"脆李"}),
])
def test_terms_expand_to_their_synonyms(term, expected):
    assert set(tx.expand(term)) == expected


def test_query_syntax_and_sql_are_only_text():
    terms = tx.parse_terms('"巫山" AND (脆李*) OR title:番茄 ~2 \'; DROP TABLE product; --')
    assert [t.text for t in terms] == ["巫山", "and", "脆李", "or", "title", "番茄", "2", "drop"]
    assert len(terms) == tx.MAX_TERMS


def test_highlight_marks_matches_in_the_original_text_including_synonyms():
    segments = tx.highlight("鲁渝一号西红柿", ["番茄", "西红柿"])
    assert segments == [{"text": "鲁渝一号", "match": False}, {"text": "西红柿", "match": True}]
    # Full-width input is matched through its normalised form and cut from the original.
    assert tx.highlight("ＡＢ苹果", ["ab"]) == [{"text": "ＡＢ", "match": True}, {"text": "苹果", "match": False}]


def test_long_texts_are_cut_around_the_first_match():
    text = "甲" * 100 + "脆李" + "乙" * 100
    segments = tx.highlight(text, ["脆李"], limit=20)
    joined = "".join(s["text"] for s in segments)
    assert joined.startswith("…") and joined.endswith("…")
    assert {"text": "脆李", "match": True} in segments
    assert len(joined) <= 22
