"""Review text pipeline: normalisation and Chinese word segmentation. Imports no Django.

`normalise` folds the many ways learners write the same thing into one form (full-width →
half-width, traditional → simplified, Latin lowercased, URLs and emoji dropped, phrases written
with spaces such as "go mod" / "Hello World" joined with "-" so one dictionary entry matches them).
`segment` cuts normalised text with jieba-rs (PyPI `rjieba`, a port of jieba, ~25x faster) in
jieba's precise mode with HMM off, using jieba's own dictionary plus the shipped user dictionary,
then drops stopwords and punctuation. `reference_segmenter` builds the same segmenter on the
Python jieba; tests prove the two give identical cuts. `Segmenter.filler` names the words that only
talk of the review form (data/form_words.txt: "填写", "字数"): a clause of them alone is no clause.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Protocol

import numpy as np
import zhconv
from zhconv import zhconv as zhconv_tables

DATA_DIR = Path(__file__).resolve().parent / "data"
USER_DICT_PATH = DATA_DIR / "userdict.txt"
STOPWORDS_PATH = DATA_DIR / "stopwords.txt"
FORM_WORDS_PATH = DATA_DIR / "form_words.txt"

# Bump when normalise/segment change behaviour: cached tokens made by older code are then recomputed.
PIPELINE_VERSION = "1"

# Texts are normalised and segmented in batches joined by this separator: one call per batch
# instead of one per review. Newlines inside a review are folded to spaces first, so the only
# newlines in a batch are separators (jieba never joins across whitespace).
_SEPARATOR = "\n"
_BATCH_CHARS = 400_000

_URL = re.compile(
    r"(?:https?://|ftp://|www\.)[0-9A-Za-z\-._~:/?#\[\]@!$&'()*+,;=%]+"
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"  # e-mail addresses (ASCII runs only: fast)
)
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # emoji, pictographs, symbols & pictographs extended
    "\U00002600-\U000027bf"  # misc symbols, dingbats
    "\U00002b00-\U00002bff"  # arrows & stars used as emoji
    "\U00002190-\U000021ff"  # arrows
    "\U00002300-\U000023ff"  # misc technical (⌚ ⏰ …)
    "\U000025a0-\U000025ff"  # geometric shapes
    "\U0000fe00-\U0000fe0f"  # variation selectors
    "\U0000200b-\U0000200f\U00002060\U0000feff"  # zero-width characters
    "\U000020e3\U0000200d"  # keycap, zero-width joiner
    "\U000e0020-\U000e007f"  # tag characters (flag sequences)
    "\u00a9\u00ae\u2122\u3030\u303d\u3297\u3299"
    "]+"
)
_INNER_NEWLINES = re.compile(r"[\r\n\u2028\u2029\x85\x0b\x0c]+")
_PHRASE_SEPARATORS = str.maketrans("", "", " \t_-")
_HAS_CJK = re.compile(r"[\u3400-\u9fff]")
_HAS_ALNUM = re.compile(r"[a-z0-9]")
_ONLY_DIGITS = re.compile(r"^[0-9.%+\-#&_]+$")
# A counted number written in Chinese ("五个", "十五个"): in "至少输入五个字" it counts the form's characters.
_COUNT = re.compile(r"^[零一二两三四五六七八九十百]+个?$")


@dataclass(frozen=True)
class DictionaryEntry:
    word: str
    freq: int
    tag: str


def load_user_dictionary(path: Path = USER_DICT_PATH) -> list[DictionaryEntry]:
    entries = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 or not parts[1].isdigit():
            raise ValueError(f"{path.name} line {number}: expected 'term frequency tag', got {raw!r}")
        word = parts[0]
        if word != word.lower() or unicodedata.normalize("NFKC", word) != word:
            raise ValueError(f"{path.name} line {number}: terms must be normalised (lowercase, half-width)")
        entries.append(DictionaryEntry(word=word, freq=int(parts[1]), tag=parts[2]))
    return entries


def load_stopwords(path: Path = STOPWORDS_PATH) -> frozenset[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


class _Cutter(Protocol):
    def __call__(self, text: str) -> list[str]: ...


class Normaliser:
    """Folds review text into the one form the dictionary and the models expect."""

    def __init__(self, entries: Sequence[DictionaryEntry]) -> None:
        # Latin compounds joined by "-" in the dictionary ("go-mod", "hello-world") are phrases:
        # match them written with spaces, underscores, hyphens or nothing between the parts.
        phrases = sorted(
            {entry.word for entry in entries if "-" in entry.word and entry.word.isascii()},
            key=lambda word: (-len(word), word),
        )
        self._phrase_by_key = {phrase.replace("-", ""): phrase for phrase in phrases}
        if phrases:
            alternatives = "|".join(
                r"[ \t_\-]*".join(re.escape(part) for part in phrase.split("-")) for phrase in phrases
            )
            # The leading lookahead on the phrases' first letters lets the regex engine skip ahead
            # through Chinese text instead of trying every alternative at every position (3x faster).
            first = "".join(sorted({re.escape(phrase[0]) for phrase in phrases}))
            self._phrases: re.Pattern[str] | None = re.compile(
                rf"(?=[{first}])(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])"
            )
        else:
            self._phrases = None

    def _join_phrase(self, match: re.Match[str]) -> str:
        written = match.group(0)
        return self._phrase_by_key[written.translate(_PHRASE_SEPARATORS)]

    def fold(self, text: str) -> str:
        """Everything but the whitespace collapse; safe on a batch of texts joined by newlines."""
        text = unicodedata.normalize("NFKC", text)
        text = _URL.sub(" ", text)
        text = _EMOJI.sub(" ", text)
        text = _simplified(text)
        text = text.lower()
        if self._phrases is not None:
            text = self._phrases.sub(self._join_phrase, text)
        return text

    def normalise(self, text: str) -> str:
        return " ".join(self.fold(_one_line(text)).split())

    def normalise_many(self, texts: Iterable[str]) -> list[str]:
        out: list[str] = []
        for batch in _batches(texts):
            folded = self.fold(_SEPARATOR.join(map(_one_line, batch))).split(_SEPARATOR)
            if len(folded) != len(batch):
                raise RuntimeError("normalisation changed the number of lines in a batch")
            out.extend(" ".join(text.split()) for text in folded)
        return out


@lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """Characters that only occur in traditional writing: converted by zhconv, never in its output."""
    table = zhconv_tables.getdict("zh-cn")
    in_simplified = set("".join(table.values()))
    # Single characters the table converts (這 → 这); phrase entries such as 全球資訊網 → 万维网 would
    # otherwise make everyday characters (全) look traditional.
    converted = {source for source, target in table.items() if len(source) == 1 and source != target}
    return frozenset(char for char in converted - in_simplified if ord(char) >= 0x3400)


@lru_cache(maxsize=1)
def _traditional_table() -> np.ndarray:
    """Whether each code point is a traditional-only character, as an array indexed by code point."""
    table = np.zeros(0x110000, dtype=bool)
    table[[ord(char) for char in _traditional_chars()]] = True
    return table


def _simplified(text: str) -> str:
    """The text with each of its lines written in traditional characters converted to simplified.

    Only such lines are converted: zhconv's zh-cn table also rewrites some simplified text ("什么正在" →
    "什幺正在"), which must not happen to simplified reviews. The lines are found on the code points as an
    array (a set lookup per character is the slow part on a batch of a hundred thousand reviews)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    found = np.flatnonzero(_traditional_table()[codes])
    if not len(found):
        return text
    lines = text.split(_SEPARATOR)
    separators = np.flatnonzero(codes == ord(_SEPARATOR))
    for line in np.unique(np.searchsorted(separators, found)).tolist():
        lines[line] = zhconv.convert(lines[line], "zh-cn")
    return _SEPARATOR.join(lines)


def _one_line(text: str) -> str:
    # isprintable() is False for any line break, so the regex only runs on the few texts that have one.
    return text if text.isprintable() else _INNER_NEWLINES.sub(" ", text)


def _batches(texts: Iterable[str]) -> Iterable[list[str]]:
    batch: list[str] = []
    size = 0
    for text in texts:
        batch.append(text)
        size += len(text)
        if size >= _BATCH_CHARS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class _Memo(dict[str, bool]):
    def __init__(self, function: Callable[[str], bool]) -> None:
        super().__init__()
        self.function = function

    def __missing__(self, key: str) -> bool:
        value = self[key] = self.function(key)
        return value


class Segmenter:
    """Normalise + cut + filter. `cut` is the raw jieba-compatible segmentation of normalised text."""

    def __init__(
        self,
        *,
        cut: _Cutter,
        normaliser: Normaliser,
        stopwords: frozenset[str],
        form_words: frozenset[str] = frozenset(),
        fingerprint: str,
    ) -> None:
        self.cut = cut
        self.normaliser = normaliser
        self.stopwords = stopwords
        self.form_words = form_words
        self.fingerprint = fingerprint
        self._kept = _Memo(self._keeps)  # word → kept or not: a review corpus repeats few distinct words
        self._content: set[str] = set()  # the kept words, for filter_many
        # Whether a word is a content word (memoised: loops over millions of words call it).
        self.keep: Callable[[str], bool] = self._kept.__getitem__
        # Whether a content word speaks only of the review form ("填写", "字数", "五个"): a clause made of
        # such words alone is no clause (clauses.split).
        self.filler: Callable[[str], bool] = _Memo(self._fills).__getitem__

    def _keeps(self, token: str) -> bool:
        if token in self.stopwords:
            return False
        if _HAS_CJK.search(token):
            return True
        # Latin: words of two or more characters, not bare numbers ("%v" → "v" is dropped).
        return len(token) > 1 and bool(_HAS_ALNUM.search(token)) and not _ONLY_DIGITS.match(token)

    def _fills(self, token: str) -> bool:
        return token in self.form_words or bool(_COUNT.match(token))

    def filter(self, words: Iterable[str]) -> list[str]:
        """Content tokens: stopwords, punctuation, bare numbers and single Latin letters removed."""
        kept = self._kept
        return [word for word in words if kept[word]]

    def filter_many(self, words: Sequence[Sequence[str]]) -> list[list[str]]:
        """filter() of many reviews: the same result, with the per-word loops in C."""
        kept = self._kept
        for word in dict.fromkeys(chain.from_iterable(words)):
            kept[word]  # noqa: B018 - fills the memo for new words
        content = self._content
        content.update(word for word, keep in kept.items() if keep and word not in content)
        return [list(filter(content.__contains__, review)) for review in words]

    def words(self, text: str) -> list[str]:
        """The full segmentation of one review (stopwords and punctuation kept, whitespace dropped)."""
        return [word for word in self.cut(self.normaliser.normalise(text)) if word != " "]

    def words_many(self, texts: Iterable[str]) -> list[list[str]]:
        """words() of many texts: the same result, several times faster (one cut per batch)."""
        out: list[list[str]] = []
        # One string object per distinct word: a large corpus repeats a few thousand words millions of times.
        # Normalised text has single spaces as its only whitespace.
        canonical: dict[str, str] = {}
        same = canonical.setdefault
        cut = self.cut
        not_space = " ".__ne__
        for batch in _batches(texts):
            for text in self.normaliser.normalise_many(batch):
                words = cut(text)
                out.append(list(filter(not_space, map(same, words, words))))
        return out

    def tokens(self, text: str) -> list[str]:
        return self.filter(self.words(text))

    def tokens_many(self, texts: Iterable[str]) -> list[list[str]]:
        return [self.filter(words) for words in self.words_many(texts)]


def _fingerprint(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256(PIPELINE_VERSION.encode())
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_segmenter(
    *,
    engine: str = "rjieba",
    user_dict: Path = USER_DICT_PATH,
    stopwords: Path = STOPWORDS_PATH,
    form_words: Path = FORM_WORDS_PATH,
) -> Segmenter:
    """A segmenter on jieba's dictionary plus the user dictionary.

    engine="rjieba" is the production engine; engine="jieba" is the Python reference implementation
    (HMM off) that tests and benchmarks compare against.
    """
    entries = load_user_dictionary(user_dict)
    if engine == "rjieba":
        import rjieba

        instance = rjieba.Jieba()
        for entry in entries:
            instance.add_word(entry.word, entry.freq, entry.tag)

        def cut(text: str) -> list[str]:
            return instance.cut(text, hmm=False)

    elif engine == "jieba":
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        for entry in entries:
            tokenizer.add_word(entry.word, entry.freq, entry.tag)

        def cut(text: str) -> list[str]:
            words: list[str] = tokenizer.lcut(text, HMM=False)
            return words

    else:
        raise ValueError(f"unknown segmentation engine {engine!r}")
    return Segmenter(
        cut=cut,
        normaliser=Normaliser(entries),
        stopwords=load_stopwords(stopwords),
        form_words=load_stopwords(form_words),
        fingerprint=_fingerprint([user_dict, stopwords, form_words]),
    )


class _Default:
    lock = threading.Lock()
    segmenter: Segmenter | None = None


def get_segmenter() -> Segmenter:
    """The process-wide production segmenter (built once; ~0.1 s)."""
    if _Default.segmenter is None:
        with _Default.lock:
            if _Default.segmenter is None:
                _Default.segmenter = build_segmenter()
    return _Default.segmenter


def warm_up() -> None:
    """Load dictionaries now (Celery calls this before forking workers so children share them)."""
    get_segmenter()


def normalise(text: str) -> str:
    return get_segmenter().normaliser.normalise(text)


def segment(text: str) -> list[str]:
    return get_segmenter().tokens(text)


def segment_many(texts: Iterable[str]) -> list[list[str]]:
    return get_segmenter().tokens_many(texts)


def words_many(texts: Iterable[str]) -> list[list[str]]:
    return get_segmenter().words_many(texts)


@lru_cache(maxsize=1)
def reference_segmenter() -> Segmenter:
    """The Python-jieba segmenter with the same dictionary (slow; for tests and benchmarks)."""
    return build_segmenter(engine="jieba")
