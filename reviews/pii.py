"""Personal data in review text: mainland mobile numbers, QQ and WeChat ids, e-mail addresses and Chinese
resident ID numbers. Pure functions on plain strings (no Django).

`find()` says where they are; `mask()` hides the middle of each one with "*" (138****5678, 1234****@qq.com,
110105********123X). Masking keeps the text's length, so character offsets computed on the original text
(the highlighted complaint clause of a quote) still point at the same words in the masked one.

How each kind is told apart from the numbers learners write (years, prices, course codes, versions, ids):
- phone: eleven digits 1[3-9]…, alone or after +86 / 0086, written whole, in the usual 3-4-4 groups or one
  digit at a time (also in Chinese numerals). A run of other numbers that happens to add up to eleven digits
  ("1 3 5 7 9 11 13 15") is not one: its groups have no phone's shape.
- id_card: 18 digits (the last may be X) whose region, birth date and GB 11643 check digit agree, or the old
  15-digit form with a valid region and birth date. A random 18-digit number passes the check digit once in
  eleven, the date and region far less often.
- qq / wechat: only next to their cue words (QQ, 扣扣, 企鹅, 微信, vx, wx, V信…): a 5–11 digit number, also in
  Chinese numerals or split by spaces and dots; for WeChat also a letter-first id ("go-master-666").
- email: an address with "@" (full-width too) or "(at)".
Numbers inside a link are never phones or ID numbers: a URL's long numeric id is not anyone's phone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from reviews.noise import NUMERAL_DIGITS

PHONE = "phone"
QQ = "qq"
WECHAT = "wechat"
EMAIL = "email"
ID_CARD = "id_card"
KINDS = (PHONE, QQ, WECHAT, EMAIL, ID_CARD)

# Chinese numerals as digits, and Arabic digits as a mark that is no digit.
_NUMERALS_ONLY = str.maketrans({**{str(digit): "#" for digit in range(10)}, **NUMERAL_DIGITS})
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad")
# Region codes of the mainland provinces, Taiwan, Hong Kong and Macau: the first two digits of an ID number.
_ID_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 "
    "83 91".split()
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10x98765432"

# Digits separated by at most one space or dash (zero-width characters count as spaces).
_PLAIN_RUN = re.compile(r"(?<![a-z\d])(?<!\d[.,])\d(?:[ \-]?\d)+(?:[ \-]?x(?![a-z]))?(?!\d)(?![.,]\d)")
# Next to a cue word spammers also cut numbers with dots, commas, slashes or stars ("8.5.4.6.3.0.1.3.5").
_CUED_DIGITS = r"\d(?:[ \-_.,，、·*~/|]{0,2}\d){4,14}(?![\d@])"
_QQ = re.compile(r"(?<![a-z])(?:qq|扣扣|企鹅|球球|q号|q群)[ 号码群是为:：]{0,5}(" + _CUED_DIGITS + ")")
_WECHAT_CUE = r"(?:(?:微信|威信|薇信|徽信|v信)号?|(?<![a-z])(?:vx|wx|weixin|wechat)(?![a-z]))"
_WECHAT_DIGITS = re.compile(_WECHAT_CUE + r"[ 号码是为:：]{0,5}(" + _CUED_DIGITS + ")")
_WECHAT_ID = re.compile(_WECHAT_CUE + r"([ 号码是为:：]{0,5})([a-z][-_a-z0-9]{5,19})(?![-_a-z0-9])")
_EMAIL = re.compile(
    r"(?<![-_a-z0-9.+%])([a-z0-9][-_a-z0-9.+%]{0,63})\s?(?:@|\(at\)|\[at\])\s?"
    r"([a-z0-9][-a-z0-9]*(?:[.。][a-z0-9][-a-z0-9]*)*[.。][a-z]{2,})(?![-a-z0-9])"
)
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9][-a-z0-9.]*\.[a-z]{2,}/\S*")

# Group sizes a phone is written in; any other grouping is a list of unrelated numbers.
_PHONE_GROUPS = frozenset({(11,), (3, 4, 4), (3, 8), (7, 4), (4, 3, 4), (4, 4, 3), (3, 3, 5)})
_ID_GROUPS = frozenset({(18,), (6, 8, 4), (6, 4, 4, 4), (6, 12), (15,), (6, 6, 3)})


@dataclass(frozen=True)
class Match:
    kind: str  # one of KINDS
    start: int
    end: int
    hidden: tuple[int, ...]  # positions of the characters `mask()` replaces with "*"


def _fold(text: str) -> str:
    """The text with full-width forms as half-width, lower case, and zero-width characters as spaces, one
    character for one character (offsets in it are offsets in `text`)."""
    out = []
    for char in text:
        if char in _ZERO_WIDTH:
            out.append(" ")
            continue
        folded = unicodedata.normalize("NFKC", char).lower()
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


def _digit_positions(view: str, start: int, end: int) -> list[int]:
    return [i for i in range(start, end) if view[i].isdigit() or view[i] == "x"]


def _groups(view: str, start: int, end: int) -> tuple[int, ...]:
    return tuple(len(piece) for piece in re.split(r"[^\dx]+", view[start:end]) if piece)


def _hide_middle(positions: list[int], keep_start: int, keep_end: int) -> tuple[int, ...]:
    return tuple(positions[keep_start : len(positions) - keep_end])


def _valid_birth_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 2099


def is_id_number(digits: str) -> bool:
    """Whether `digits` (no separators, "x" in lower case) is a well-formed Chinese resident ID number: 18
    characters with a valid region, birth date and check digit, or the old 15-digit form."""
    if len(digits) == 18 and digits[:17].isdigit():
        if digits[:2] not in _ID_PROVINCES:
            return False
        if not _valid_birth_date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14])):
            return False
        total = sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS, strict=True))
        return _ID_CHECK[total % 11] == digits[17]
    if len(digits) == 15 and digits.isdigit():
        return digits[:2] in _ID_PROVINCES and _valid_birth_date(
            1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
        )
    return False


def _drop_digits(groups: tuple[int, ...], count: int) -> tuple[int, ...]:
    """The group sizes left after the first `count` digits (a +86 prefix) are taken away."""
    rest = list(groups)
    while count and rest:
        taken = min(count, rest[0])
        rest[0] -= taken
        count -= taken
        if rest[0] == 0:
            rest.pop(0)
    return tuple(rest)


def _written_as_phone(groups: tuple[int, ...]) -> bool:
    return groups in _PHONE_GROUPS or set(groups) == {1}


def _phone_digits(digits: str) -> str | None:
    """The eleven-digit mobile number in `digits` (with a leading 86 / 0086 dropped), or None."""
    for prefix in ("0086", "86", ""):
        rest = digits[len(prefix) :]
        if digits.startswith(prefix) and re.fullmatch(r"1[3-9]\d{9}", rest):
            return rest
    return None


def _numbers(view: str, urls: list[tuple[int, int]]) -> list[Match]:
    """Phones and ID numbers: digit runs anywhere, outside links."""
    matches = []
    for run in _PLAIN_RUN.finditer(view):
        start, end = run.span()
        if any(a <= start < b for a, b in urls):
            continue
        positions = _digit_positions(view, start, end)
        digits = "".join(view[i] for i in positions)
        groups = _groups(view, start, end)
        if digits[-1:] != "x":
            phone = _phone_digits(digits)
            prefix = len(digits) - 11
            if phone and _written_as_phone(_drop_digits(groups, prefix)):
                hidden = _hide_middle(positions[prefix:], 3, 4)
                matches.append(Match(PHONE, positions[prefix], end, hidden))
                continue
        # "111111111111111" has a valid date and region, but is filler, not anyone's number.
        repeated = len(set(digits)) <= 2
        if is_id_number(digits) and not repeated and (groups in _ID_GROUPS or set(groups) == {1}):
            matches.append(Match(ID_CARD, start, end, _hide_middle(positions, 6, 4)))
    return matches


def _cued(view: str) -> list[Match]:
    """QQ and WeChat ids next to their cue words."""
    matches = []
    for kind, pattern in ((QQ, _QQ), (WECHAT, _WECHAT_DIGITS)):
        for found in pattern.finditer(view):
            start, end = found.span(1)
            positions = _digit_positions(view, start, end)
            if 5 <= len(positions) <= 11 and view[positions[0]] != "0":
                keep = 2 if len(positions) >= 7 else 1
                matches.append(Match(kind, start, end, _hide_middle(positions, keep, keep)))
    for found in _WECHAT_ID.finditer(view):
        filler, handle = found.group(1), found.group(2)
        # "微信：learning" names an id; "wx python" or "微信 support" does not unless the id has a digit,
        # "_" or "-" as made-up ids do.
        if re.search(r"[:：号]", filler) or re.search(r"[\d_-]", handle):
            start, end = found.span(2)
            keep = 2 if len(handle) >= 7 else 1
            matches.append(Match(WECHAT, start, end, tuple(range(start + keep, end - keep))))
    return matches


def _emails(view: str) -> list[Match]:
    matches = []
    for found in _EMAIL.finditer(view):
        local_start, local_end = found.span(1)
        keep = min(4, max(1, (local_end - local_start) // 2))
        matches.append(Match(EMAIL, local_start, found.end(), tuple(range(local_start + keep, local_end))))
    return matches


def find(text: str) -> list[Match]:
    """The personal data in `text`, in reading order (overlapping finds give way to the first kind found:
    e-mail, then ID number and phone, then QQ / WeChat)."""
    folded = _fold(text)
    # Numbers are read in Arabic digits and in Chinese numerals apart: "13812345678 一起" is a phone
    # followed by a word, not a twelve-digit number.
    numerals = folded.translate(_NUMERALS_ONLY)
    urls = [found.span() for found in _URL.finditer(folded)]
    kept: list[Match] = []
    found = [*_emails(folded)]
    for view in (folded, numerals):
        found += [*_numbers(view, urls), *_cued(view)]
    for match in found:
        if not any(match.start < other.end and other.start < match.end for other in kept):
            kept.append(match)
    return sorted(kept, key=lambda match: match.start)


def kinds(text: str) -> list[str]:
    """The kinds of personal data in `text`, each once, in the order of KINDS."""
    found = {match.kind for match in find(text)}
    return [kind for kind in KINDS if kind in found]


def mask(text: str) -> str:
    """`text` with the middle of every phone, QQ / WeChat id, e-mail address and ID number replaced by "*"
    (same length as `text`)."""
    matches = find(text)
    if not matches:
        return text
    chars = list(text)
    for match in matches:
        for position in match.hidden:
            chars[position] = "*"
    return "".join(chars)
