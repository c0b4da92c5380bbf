"""Validation of what a learner (form, API) or an import file submits as a review.

Every write path (forms, API serializers, services, `import_feedback`) uses these functions, so a value is
accepted or rejected the same way everywhere and the message is the same. They raise Django's ValidationError.
"""

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reviews.models import CONTEXT_KEYS, DIMENSION_KEYS, DIMENSIONS, WEEKLY_HOURS_MAX, ReviewContext

_RATING_DIGIT = re.compile(r"[1-5]")
# Lone UTF-16 surrogates can arrive through JSON escapes ("\ud800") but cannot be encoded as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")

# Invisible format characters (zero-width space and joiners, byte-order mark, direction marks) and blanks:
# a text made only of these looks empty on every page.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zs", "Zl", "Zp", "Cc"})


def _has_visible_character(text: str) -> bool:
    return any(unicodedata.category(char) not in _INVISIBLE_CATEGORIES for char in text)


RATING_MESSAGE = _("Choose a rating from 1 to 5 (whole stars).")


def validate_rating(value: object) -> int:
    """Return the rating as an int. Accepts an int 1..5 or a string "1".."5" (forms post strings).

    Rejects 0, 6, 2.5, "2.5", "五", booleans and None.
    """
    if isinstance(value, bool) or value is None:
        raise ValidationError(RATING_MESSAGE, code="invalid_rating")
    if isinstance(value, int):
        if 1 <= value <= 5:
            return value
        raise ValidationError(RATING_MESSAGE, code="invalid_rating")
    if isinstance(value, str) and _RATING_DIGIT.fullmatch(value.strip()):
        return int(value.strip())
    raise ValidationError(RATING_MESSAGE, code="invalid_rating")


def validate_review_text(value: object) -> str:
    """Return the text stripped of surrounding whitespace, with Windows line breaks normalised.

    Rejects a missing, empty or whitespace-only text (zero-width characters count as whitespace), more
    than settings.REVIEW_TEXT_MAX_CHARS characters (characters, not bytes: 5,000 Chinese characters are
    accepted), NUL bytes and invalid Unicode.
    """
    if value is None:
        raise ValidationError(_("Please write your review."), code="required")
    if not isinstance(value, str):
        raise ValidationError(_("The review must be text."), code="invalid")
    if "\x00" in value:
        raise ValidationError(
            _("The review contains a NUL character (\\x00); please remove it and try again."),
            code="null_character",
        )
    if _SURROGATE.search(value):
        raise ValidationError(_("The review contains invalid Unicode characters."), code="invalid_unicode")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not _has_visible_character(text):
        raise ValidationError(_("Please write your review; it cannot be empty."), code="blank")
    limit = settings.REVIEW_TEXT_MAX_CHARS
    if len(text) > limit:
        raise ValidationError(
            _("The review can be at most %(limit)d characters long (it has %(length)d)."),
            code="too_long",
            params={"limit": limit, "length": len(text)},
        )
    return text


def validate_dimensions(value: object) -> dict[str, int]:
    """Return {dimension key: rating} for the rated teaching dimensions.

    `value` maps keys of DIMENSION_KEYS to ratings 1..5 (ints or digit strings). A None or "" rating means
    "not rated" and is left out; None instead of a mapping means no dimension was rated. Errors are raised
    as a dict keyed by dimension key, each message naming the dimension.
    """
    if value is None or value == "":
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(
            _('Dimension ratings must be an object such as {"practice": 4}.'), code="invalid_dimensions"
        )
    labels = dict(DIMENSIONS)
    result: dict[str, int] = {}
    errors: dict[str, list[ValidationError]] = {}
    for key, rating in value.items():
        if key not in labels:
            errors[str(key)] = [
                ValidationError(
                    _("Unknown teaching dimension “%(key)s”; use one of: %(keys)s."),
                    code="unknown_dimension",
                    params={"key": key, "keys": ", ".join(DIMENSION_KEYS)},
                )
            ]
            continue
        if rating is None or rating == "":
            continue
        try:
            result[key] = validate_rating(rating)
        except ValidationError:
            errors[key] = [
                ValidationError(
                    _("%(dimension)s: choose a rating from 1 to 5 (whole stars)."),
                    code="invalid_rating",
                    params={"dimension": labels[key]},
                )
            ]
    if errors:
        raise ValidationError(errors)
    return result


_MONTH = re.compile(r"(\d{4})-(\d{2})")
EARLIEST_TAKEN_YEAR = 1990
_TRUE_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _taken(value: object) -> date | None:
    message = _("When you took it: a month such as 2024-03, not in the future.")
    if isinstance(value, date):
        value = value.strftime("%Y-%m")
    if not isinstance(value, str):
        raise ValidationError(message, code="invalid_taken")
    match = _MONTH.fullmatch(value.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValidationError(message, code="invalid_taken")
    taken = date(int(match[1]), int(match[2]), 1)
    if taken.year < EARLIEST_TAKEN_YEAR or taken > timezone.localdate():
        raise ValidationError(message, code="invalid_taken")
    return taken


def _yes_or_no(message) -> Callable[[object], bool]:
    def parse(value: object) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS:
            return _TRUE_WORDS[value.strip().lower()]
        raise ValidationError(message, code="invalid_boolean")

    return parse


def _whole_number(low: int, high: int, message) -> Callable[[object], int]:
    def parse(value: object) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            number = int(value.strip())
            if low <= number <= high:
                return number
        raise ValidationError(message, code="invalid_number", params={"high": high})

    return parse


_CONTEXT_PARSERS: dict[str, Callable[[object], object]] = {
    "taken": _taken,
    "finished": _yes_or_no(_("Finished the course: true or false.")),
    "weekly_hours": _whole_number(1, WEEKLY_HOURS_MAX, _("Hours a week: a whole number from 1 to %(high)d.")),
    "difficulty": _whole_number(
        1, 5, _("Difficulty: a whole number from 1 (very easy) to %(high)d (very hard).")
    ),
    "would_recommend": _yes_or_no(_("Would recommend: true or false.")),
}


def validate_review_context(value: object) -> ReviewContext:
    """Return the reviewer context: `value` maps some of CONTEXT_KEYS to values (taken "YYYY-MM", finished
    and would_recommend true/false, weekly_hours 1..60, difficulty 1..5); None or "" means not said. Errors
    are raised as a dict keyed by context key, each message naming the part."""
    if value is None or value == "":
        return ReviewContext()
    if not isinstance(value, Mapping):
        raise ValidationError(
            _('The reviewer context must be an object such as {"finished": true, "difficulty": 3}.'),
            code="invalid_context",
        )
    parsed: dict[str, object] = {}
    errors: dict[str, list[ValidationError]] = {}
    for key, item in value.items():
        if key not in _CONTEXT_PARSERS:
            errors[str(key)] = [
                ValidationError(
                    _("Unknown reviewer context “%(key)s”; use one of: %(keys)s."),
                    code="unknown_context",
                    params={"key": key, "keys": ", ".join(CONTEXT_KEYS)},
                )
            ]
            continue
        if item is None or item == "":
            continue
        try:
            parsed[key] = _CONTEXT_PARSERS[key](item)
        except ValidationError as error:
            errors[key] = [error]
    if errors:
        raise ValidationError(errors)
    return ReviewContext(**parsed)  # type: ignore[arg-type]


# Cyrillic and Greek letters that render like Latin ones (after casefolding), from Unicode's confusables list.
_LOOKALIKE_LATIN = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
        "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "ԛ": "q",
        "ԝ": "w", "һ": "h", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    }
)  # fmt: skip
_LOOKALIKE_SCRIPTS = ("CYRILLIC", "GREEK")


def _script(char: str) -> str:
    return unicodedata.name(char, "").split(" ", 1)[0]


def username_skeleton(username: str) -> str:
    """The name as it looks: casefolded, with look-alike Cyrillic and Greek letters read as Latin."""
    return unicodedata.normalize("NFKC", username).casefold().translate(_LOOKALIKE_LATIN)


def validate_username_looks_unique(username: str, existing: Callable[[str], bool]) -> None:
    """Refuse a username that mixes Latin letters with Cyrillic or Greek ones ("dеmo" with a Cyrillic е), or
    that looks the same as an existing account's (`existing(name)` answers whether that name is taken,
    ignoring case)."""
    scripts = {_script(char) for char in username if char.isalpha()}
    if "LATIN" in scripts and scripts.intersection(_LOOKALIKE_SCRIPTS):
        raise ValidationError(
            _("Use either Latin or Cyrillic/Greek letters in a username, not both: they look alike."),
            code="mixed_scripts",
        )
    skeleton = username_skeleton(username)
    if skeleton != username.casefold() and existing(skeleton):
        raise ValidationError(
            _("This username looks the same as an existing one; choose another."), code="lookalike"
        )
