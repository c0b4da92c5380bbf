"""The shared validators: every write path (form, API, import) accepts and rejects exactly these values."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import translation

from reviews.validators import validate_dimensions, validate_rating, validate_review_text


@pytest.mark.parametrize(("value", "expected"), [(1, 1), (5, 5), ("3", 3), (" 4 ", 4)])
def test_it_accepts_whole_star_ratings_as_numbers_or_form_strings(value, expected):
    assert validate_rating(value) == expected


@pytest.mark.parametrize(
    "value", [0, 6, -1, 2.5, 4.0, "2.5", "0", "6", "五", "", "３", True, False, None, [3], {}]
)
def test_it_rejects_ratings_that_are_not_one_to_five_whole_stars(value):
    with pytest.raises(ValidationError) as caught:
        validate_rating(value)
    assert caught.value.code == "invalid_rating"


def test_it_explains_what_a_valid_rating_is():
    with translation.override("en"):
        with pytest.raises(ValidationError) as caught:
            validate_rating(6)
        # The message is lazy: read it while English is active.
        assert "1 to 5" in caught.value.messages[0]


def test_it_strips_the_text_and_normalises_windows_line_breaks():
    assert validate_review_text("  第一段\r\n第二段\n  ") == "第一段\n第二段"


@pytest.mark.parametrize("value", ["", "   ", "\n\t \r\n", "\u3000\u3000"])
def test_it_rejects_empty_or_whitespace_only_text(value):
    with pytest.raises(ValidationError) as caught:
        validate_review_text(value)
    assert caught.value.code == "blank"


def test_it_accepts_exactly_the_maximum_number_of_chinese_characters():
    text = "好" * 5000
    assert len(text.encode()) == 15000
    assert validate_review_text(text) == text


def test_it_rejects_one_character_over_the_maximum():
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        validate_review_text("好" * 5001)
    assert caught.value.code == "too_long"
    assert "5000" in caught.value.messages[0] and "5001" in caught.value.messages[0]


def test_it_counts_the_limit_after_stripping_surrounding_whitespace():
    assert len(validate_review_text("  " + "a" * 5000 + "\n")) == 5000


@override_settings(REVIEW_TEXT_MAX_CHARS=10)
def test_it_reads_the_limit_from_settings():
    validate_review_text("a" * 10)
    with pytest.raises(ValidationError):
        validate_review_text("a" * 11)


@pytest.mark.parametrize("value", ["goroutine\x00泄漏", "\x00"])
def test_it_rejects_a_nul_character_with_a_clear_message(value):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        validate_review_text(value)
    assert caught.value.code == "null_character"
    assert "NUL" in caught.value.messages[0]


def test_it_rejects_text_that_cannot_be_stored_as_utf8():
    with pytest.raises(ValidationError) as caught:
        validate_review_text("bad \ud800 surrogate")
    assert caught.value.code == "invalid_unicode"


@pytest.mark.parametrize("value", [None, 42, ["text"]])
def test_it_rejects_missing_or_non_text_reviews(value):
    with pytest.raises(ValidationError):
        validate_review_text(value)


def test_it_keeps_rated_dimensions_and_drops_unrated_ones():
    assert validate_dimensions({"practice": 4, "concurrency": "2", "testing": None, "delivery": ""}) == {
        "practice": 4,
        "concurrency": 2,
    }


@pytest.mark.parametrize("value", [None, "", {}])
def test_it_treats_no_dimensions_as_none_rated(value):
    assert validate_dimensions(value) == {}


def test_it_names_each_bad_or_unknown_dimension():
    with pytest.raises(ValidationError) as caught:
        validate_dimensions({"practice": 0, "vibes": 5, "delivery": 3})
    assert set(caught.value.message_dict) == {"practice", "vibes"}


@pytest.mark.parametrize("value", [[4, 5], "practice=4", 3])
def test_it_rejects_dimensions_that_are_not_a_mapping(value):
    with pytest.raises(ValidationError):
        validate_dimensions(value)
