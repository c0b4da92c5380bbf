"""Noise gate: text that is not a review of the course — ads, contact numbers, links, keyboard mash.

Pure functions on plain strings (no Django). `reviews.moderation` holds a web review caught here for a
moderator; the signal pipeline (analytics) never lets such text into a signal or a quote.

What counts, and why it is written this way:
- contact: a QQ / WeChat / phone number, also written in Chinese numerals (二四九六…, 壹贰叁…) or split
  by spaces and punctuation ("2 4 9-6 7"), next to words that invite contact ("加群", "进裙", "扣扣", "vx").
  Spammers vary the writing precisely so that a plain digit pattern misses them, so digits are recovered
  first; a learner asking "有没有QQ群" without a number is not an ad.
- link: a URL or a bare domain ("xxx.com/…"); reviews have no reason to send readers to another site.
- mash: Latin runs that no language writes ("jqyoykwp", "asdfgh", "jjjjjj").
- empty: nothing but digits, punctuation, emoji or one repeated character ("666666", "。。。").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CONTACT = "contact"
LINK = "link"
MASH = "mash"
EMPTY = "empty"
KINDS = (CONTACT, LINK, MASH, EMPTY)

# Chinese numerals (and the spoken 洞/幺/两) and the digit each stands for; reviews.pii reads them too.
NUMERAL_DIGITS: dict[str, str] = {
    "零": "0",
    "〇": "0",
    "洞": "0",
    "一": "1",
    "幺": "1",
    "壹": "1",
    "二": "2",
    "贰": "2",
    "两": "2",
    "三": "3",
    "叁": "3",
    "四": "4",
    "肆": "4",
    "五": "5",
    "伍": "5",
    "六": "6",
    "陆": "6",
    "七": "7",
    "柒": "7",
    "八": "8",
    "捌": "8",
    "九": "9",
    "玖": "9",
}
_CHINESE_DIGITS = str.maketrans(NUMERAL_DIGITS)
_NUMERALS = frozenset(NUMERAL_DIGITS)
# What a contact, link or mash needs at least: a digit, a Latin letter, "@", or five numerals in a row
# (separators allowed between them, as in the digit runs).
_WORTH_CHECKING = re.compile(r"[0-9a-z@]|(?:[" + "".join(NUMERAL_DIGITS) + r"][\s\-_.,，。、·*~/|]{0,2}){5}")
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
# Digits (Chinese numerals count as digits) separated only by spaces or light punctuation form one number.
_DIGITISH = r"[\d" + "".join(NUMERAL_DIGITS) + "]"
_DIGITISH_RUN = re.compile(_DIGITISH + r"(?:[\s\-_.,，。、·*~/|]{0,2}" + _DIGITISH + ")+")
# Words that announce a contact or a group, as spammers write them (homophones included).
_CONTACT_CUE = re.compile(
    r"q{1,2}群|扣扣|企鹅|球球|加群|进群|入群|加裙|进裙|q裙|交流群|学习群|资料群|"
    r"微信|薇信|威信|徽信|v信|vx|wx|weixin|wechat|加我|私聊|私信我|联系我|交流|咨询|qq"
)
_WECHAT_ID = re.compile(r"(?:微信|薇信|威信|v信|vx|wx|weixin)\s*[:：号]?\s*([a-z][-_a-z0-9]{5,19})")
_URL = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[a-z0-9][-a-z0-9]{1,62}\.(?:com|cn|net|org|top|xyz|cc|io|me|info|vip|club|site|shop)\b(?:/\S*)?"
)
_EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_LATIN_RUN = re.compile(r"[a-z]+")
_ASCII_DIGIT = re.compile(r"[0-9]")
_CJK = re.compile(r"[\u3400-\u9fff]")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_VOWELS = frozenset("aeiouy")


@dataclass(frozen=True)
class NoiseVerdict:
    kind: str  # one of KINDS
    evidence: str  # the part of the text that decided it (for moderators and logs)


def fold(text: str) -> str:
    """NFKC (full-width → half-width), lower case, zero-width characters removed."""
    return _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text)).lower()


def _numbers(folded: str) -> list[tuple[str, bool]]:
    """Digit sequences of the text with Chinese numerals read as digits and separators dropped, each with
    whether it was disguised (written with numerals, or cut into three or more pieces)."""
    numbers = []
    # The runs are found on the text as written (numerals count as digits), and only they are translated:
    # translating every text first cost more than the rest of the gate.
    for match in _DIGITISH_RUN.finditer(folded):
        original = match.group(0)
        run = original.translate(_CHINESE_DIGITS)
        pieces = len(re.findall(r"\d+", run))
        disguised = pieces >= 3 or any(char in _NUMERALS for char in original)
        numbers.append((re.sub(r"\D", "", run), disguised))
    return numbers


def _is_repetition(digits: str) -> bool:
    """ "666666", "121212": praise or filler, not a number anyone can call."""
    return len(set(digits)) <= 2


def _looks_like_date(digits: str) -> bool:
    """ "20190320": a learner noting when they finished, not a number to call."""
    return (
        len(digits) == 8
        and digits[:2] in ("19", "20")
        and 1 <= int(digits[4:6]) <= 12
        and 1 <= int(digits[6:]) <= 31
    )


def _contact(folded: str) -> str | None:
    if _ASCII_DIGIT.search(folded):  # a WeChat id worth reporting has a digit
        wechat = _WECHAT_ID.search(folded)
        if wechat and any(char.isdigit() for char in wechat.group(1)):
            return wechat.group(0)
    cue: bool | None = None  # looked for only when a number needs it
    for digits, disguised in _numbers(folded):
        if _is_repetition(digits) or _looks_like_date(digits):
            continue
        # A mobile number is enough alone; so is a long number written to dodge filters (Chinese numerals,
        # digits split by spaces or dots). Any other number of 5+ digits only beside a contact word: a learner
        # asking "有没有QQ群" or quoting an exercise number is not an ad.
        if re.fullmatch(r"1[3-9]\d{9}", digits) or (len(digits) >= 7 and disguised):
            return digits
        if len(digits) >= 5:
            if cue is None:
                cue = _CONTACT_CUE.search(folded) is not None
            if cue:
                return digits
    return None


def _is_mash_word(word: str) -> bool:
    if len(word) < 4:
        return False
    if len(set(word)) == 1:
        return True
    vowels = sum(char in _VOWELS for char in word)
    longest_consonants = max(len(run) for run in re.split(r"[aeiouy]+", word))
    return vowels == 0 or longest_consonants >= 5 or (len(word) >= 8 and vowels / len(word) < 0.2)


def _mash(folded: str) -> str | None:
    """Latin keyboard mash in a text that has no Chinese to carry a meaning."""
    if _CJK.search(folded):
        return None
    words = _LATIN_RUN.findall(folded)
    mashed = [word for word in words if _is_mash_word(word)]
    if mashed and sum(map(len, mashed)) * 2 >= sum(map(len, words)):
        return " ".join(mashed)
    return None


def _empty(folded: str) -> bool:
    """No letter at all, or one letter repeated three or more times ("哈哈哈", "。。。" has none)."""
    first = _LETTERS.search(folded)
    if first is None:
        return True
    letter = first.group()
    if _LETTERS.search(folded.replace(letter, "")):
        return False  # two different letters: the common case, found without listing every letter
    return folded.count(letter) >= 3


def screen(text: str) -> NoiseVerdict | None:
    """Why `text` is noise, or None for text that can be a review."""
    folded = fold(text)
    if not _WORTH_CHECKING.search(folded):
        # Most reviews: Chinese without digits, Latin letters or runs of numerals; only emptiness to check.
        return NoiseVerdict(EMPTY, folded.strip()[:40]) if _empty(folded) else None
    contact = _contact(folded)
    if contact is not None:
        return NoiseVerdict(CONTACT, contact)
    # A link has a dot or "://", an address an "@": most texts need neither pattern scanned.
    maybe_url = "." in folded or "://" in folded
    link = (maybe_url and _URL.search(folded)) or ("@" in folded and _EMAIL.search(folded)) or None
    if link is not None:
        return NoiseVerdict(LINK, link.group(0))
    if _empty(folded):
        return NoiseVerdict(EMPTY, folded.strip()[:40])
    mash = _mash(folded)
    if mash is not None:
        return NoiseVerdict(MASH, mash[:40])
    return None
