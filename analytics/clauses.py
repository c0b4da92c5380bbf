"""Clauses: a review is cut into clauses at punctuation and contrast words. Imports no Django.

"讲得好，但是声音太小" holds praise and a complaint; a learner's star mark belongs to the whole review, so the
pipeline decides complaint or not per clause. A clause that a contrast word opens (但是, 不过, 可惜, 希望 …)
is where a happy learner puts the problem, which the complaint model uses as evidence.

A review's clauses are kept in one string (the token cache stores it): content tokens separated by spaces,
clauses separated by a marker token — `|` before an ordinary clause, `^` before one a contrast word opened,
each prefixed with `!` when the clause was decided to be a complaint ("!^ 声音 太小").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from typing import NamedTuple

import numpy as np

CLAUSE = "|"
CONTRAST_CLAUSE = "^"
# A complaint clause's marker starts with this ("!|", "!^"); a review without it in its packed form has none.
COMPLAINT_MARK = "!"
MARKERS = frozenset((CLAUSE, CONTRAST_CLAUSE, COMPLAINT_MARK + CLAUSE, COMPLAINT_MARK + CONTRAST_CLAUSE))

# Words that turn a sentence from what was good to what was not
# ("讲得好，但是…", "就是声音小", "希望多一些…").
CONTRAST_WORDS = frozenset(
    "但 但是 可是 不过 然而 可惜 遗憾 就是 只是 只不过 唯一 美中不足 缺点 不足 希望 建议 要是 如果".split()
)

_BOUNDARY_CHARS = frozenset(",.;:!?()[]{}\"'`~|<>/\\，。；：！？、…—“”‘’《》【】（）「」『』·\n")


class _Cuts(dict[str, int]):
    """word → 0 (a word), 1 (a boundary: punctuation), 2 (a contrast word); a corpus repeats few words."""

    def __missing__(self, word: str) -> int:
        if word in CONTRAST_WORDS:
            kind = 2
        else:
            kind = int(all(char in _BOUNDARY_CHARS or char.isspace() for char in word))
        self[word] = kind
        return kind


_CUTS = _Cuts()


class Clause(NamedTuple):
    tokens: tuple[str, ...]  # content tokens
    contrast: bool = False  # opened by a contrast word
    complaint: bool = False  # decided to report a problem


def split(
    words: Sequence[str],
    keep: Callable[[str], bool] | None = None,
    filler: Callable[[str], bool] | None = None,
) -> list[Clause]:
    """Cut a review's segmented words into clauses; `keep` picks the content words each clause keeps (the
    cut itself sees every word). Clauses left with no word are dropped, and so are those whose every word is
    `filler` (talk of the review form: "至少 输入 五个 字")."""
    clauses: list[Clause] = []
    current: list[str] = []
    contrast = substantive = False
    cuts = _CUTS
    make = tuple.__new__  # a Clause without the named tuple's Python-level constructor
    for word in words:
        kind = cuts[word]
        if kind:
            if substantive:
                clauses.append(make(Clause, (tuple(current), contrast, False)))
            current, contrast, substantive = [], kind == 2, False
        elif keep is None or keep(word):
            current.append(word)
            substantive = substantive or filler is None or not filler(word)
    if substantive:
        clauses.append(make(Clause, (tuple(current), contrast, False)))
    return clauses


def split_many(
    reviews: Sequence[Sequence[str]],
    keep: Callable[[str], bool] | None = None,
    filler: Callable[[str], bool] | None = None,
) -> Batch:
    """split() of many reviews, as one Batch of clauses without decisions (what pack() of each review's
    clauses gives, read back): the same cut, with the per-word work done on arrays. A run's chunks cut
    millions of words; a Python loop per word was a quarter of their time."""
    lengths = np.fromiter(map(len, reviews), dtype=np.int64, count=len(reviews))
    starts = np.zeros(len(reviews) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    words = list(chain.from_iterable(reviews))
    # Each distinct word's part in the cut: 0 dropped, 1 a boundary, 2 a contrast word, 3 a content word,
    # 4 a content word that makes no clause alone (filler).
    distinct = list(dict.fromkeys(words))
    part = {
        word: kind or ((4 if filler is not None and filler(word) else 3) if keep is None or keep(word) else 0)
        for word, kind in zip(distinct, map(_CUTS.__getitem__, distinct), strict=True)
    }
    parts = np.fromiter(map(part.__getitem__, words), dtype=np.int8, count=len(words))
    # Where a clause opens: at each boundary and contrast word, and where each review starts.
    opens = (parts == 1) | (parts == 2)
    opens[starts[:-1][lengths > 0]] = True
    opened_at = np.flatnonzero(opens)
    content = np.flatnonzero(parts >= 3)
    clause_of = np.cumsum(opens)[content]  # 1 + the opening (of opened_at) of each content word's clause
    # A clause of filler alone is no clause: its words go.
    substantive = np.zeros(len(opened_at) + 1, dtype=bool)
    substantive[clause_of[parts[content] == 3]] = True
    content, clause_of = content[substantive[clause_of]], clause_of[substantive[clause_of]]
    # Each clause's first content word (a clause without one is no clause).
    first = np.ones(len(content), dtype=bool)
    first[1:] = clause_of[1:] != clause_of[:-1]
    firsts = np.flatnonzero(first)
    contrast = parts[opened_at[clause_of[firsts] - 1]] == 2
    # The batch's tokens: each clause's marker, then its content words.
    markers = firsts + np.arange(len(firsts))
    tokens = np.empty(len(content) + len(firsts), dtype=object)
    tokens[markers] = np.where(contrast, CONTRAST_CLAUSE, CLAUSE).astype(object)
    is_marker = np.zeros(len(tokens), dtype=bool)
    is_marker[markers] = True
    tokens[~is_marker] = np.array(words, dtype=object)[content] if len(content) else []
    review_of = np.searchsorted(starts, content, side="right") - 1
    counts = np.bincount(review_of, minlength=len(reviews)) + np.bincount(
        review_of[firsts], minlength=len(reviews)
    )
    bounds = np.zeros(len(reviews) + 1, dtype=np.int64)
    np.cumsum(counts[: len(reviews)], out=bounds[1:])
    return Batch(tokens.tolist(), bounds, markers, np.cumsum(is_marker) - 1)


def pack(clauses: Iterable[Clause]) -> str:
    """Clauses as the one string the token cache keeps."""
    parts = []
    for clause in clauses:
        if clause.tokens:
            marker = CONTRAST_CLAUSE if clause.contrast else CLAUSE
            parts.append(f"{COMPLAINT_MARK if clause.complaint else ''}{marker} {' '.join(clause.tokens)}")
    return " ".join(parts)


def unpack(packed: str) -> list[Clause]:
    """The clauses of a packed string."""
    clauses: list[Clause] = []
    tokens: list[str] = []
    marker = ""
    for token in packed.split():
        if token in MARKERS:
            if tokens:
                clauses.append(_clause(tokens, marker))
            tokens, marker = [], token
        else:
            tokens.append(token)
    if tokens:
        clauses.append(_clause(tokens, marker))
    return clauses


def _clause(tokens: list[str], marker: str) -> Clause:
    return Clause(tuple(tokens), marker.endswith(CONTRAST_CLAUSE), marker.startswith(COMPLAINT_MARK))


@dataclass(frozen=True)
class Batch:
    """Many packed reviews read at once: every token of all of them in one list (markers included), with
    where each review and clause starts. Built and written back with C-level string operations: a run's
    chunks decide millions of clauses, and a Python loop per clause or per word cost most of that."""

    tokens: list[str]
    bounds: np.ndarray  # review i's tokens are tokens[bounds[i]:bounds[i + 1]]
    markers: np.ndarray  # the position of each clause's marker, in order
    clause: np.ndarray  # the clause of each token (its marker's clause for a marker)

    @property
    def clause_reviews(self) -> np.ndarray:
        """The review of each clause."""
        return np.searchsorted(self.bounds, self.markers, side="right") - 1


def read(packed: Sequence[str]) -> Batch:
    """A Batch of packed reviews ("" for a review without clauses)."""
    counts = np.fromiter(map(str.count, packed, repeat(" ")), dtype=np.int64, count=len(packed))
    counts += np.fromiter(map(bool, packed), dtype=np.int64, count=len(packed))
    tokens = " ".join(filter(None, packed)).split(" ") if counts.any() else []
    bounds = np.zeros(len(packed) + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    is_marker = np.fromiter(map(MARKERS.__contains__, tokens), dtype=bool, count=len(tokens))
    if not is_marker[bounds[:-1][counts > 0]].all():
        raise ValueError("not packed clauses: a review must start with a clause marker")
    return Batch(tokens, bounds, np.flatnonzero(is_marker), np.cumsum(is_marker) - 1)


def write(batch: Batch, complaint: Sequence[bool] | None = None) -> list[str]:
    """The packed reviews of a batch, with each clause's complaint decision replaced by `complaint` (kept
    as it is without)."""
    tokens = batch.tokens
    if complaint is not None:
        tokens = list(tokens)
        for position, decided in zip(batch.markers.tolist(), complaint, strict=True):
            marker = tokens[position]
            tokens[position] = _MARKED[marker] if decided else _UNMARKED[marker]
    bounds = batch.bounds.tolist()
    return [" ".join(tokens[start:end]) for start, end in zip(bounds, bounds[1:], strict=False)]


_MARKED = {marker: COMPLAINT_MARK + marker.lstrip(COMPLAINT_MARK) for marker in MARKERS}
_UNMARKED = {marker: marker.lstrip(COMPLAINT_MARK) for marker in MARKERS}


_COMPLAINT_MARKER = re.compile(r"(?:^| )![|^](?= |$)")


def has_complaint(packed: str) -> bool:
    """Whether a packed review has a clause decided to be a complaint."""
    return COMPLAINT_MARK in packed and _COMPLAINT_MARKER.search(packed) is not None


_PLAIN_MARKER = re.compile(r" [|^](?= |$)")


def complaint_tokens(packed: str) -> list[list[str]]:
    """The content tokens of each clause of a packed review decided to be a complaint, in order (a clause
    without any is left out). Read with string operations on the complaint clauses only: a run reads every
    complaint review's, and splitting all their clauses into tokens first took twice as long."""
    if COMPLAINT_MARK not in packed:
        return []
    out = []
    for piece in f" {packed}".split(f" {COMPLAINT_MARK}")[1:]:
        if piece[:1] not in (CLAUSE, CONTRAST_CLAUSE) or piece[1:2] not in ("", " "):
            # A content word starting with "!" ("!x"), not a marker: read marker by marker.
            return [list(clause.tokens) for clause in unpack(packed) if clause.complaint]
        # The clause runs to the next marker: a complaint one was split at, a plain one ends it here.
        head = _PLAIN_MARKER.split(piece, 1)[0]
        if len(head) > 2:
            out.append(head[2:].split(" "))
    return out


def content(packed: str) -> list[str]:
    """Every content token of a packed review, markers dropped."""
    return [token for token in packed.split() if token not in MARKERS]


def text_clauses(text: str) -> list[tuple[int, int]]:
    """Character spans of the clauses of raw text, for highlighting a quoted complaint clause.

    Cut at the same boundaries (punctuation, then contrast words) without segmenting; spans cover the text
    between boundaries, so joining them with the boundaries gives the text back.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for index, char in enumerate(text):
        # Spaces are not boundaries: the segmenter reads "念 PPT 为主" as one clause too.
        if char in _BOUNDARY_CHARS:
            if index > start:
                spans.append((start, index))
            start = index + 1
    if start < len(text):
        spans.append((start, len(text)))
    out: list[tuple[int, int]] = []
    ordered = sorted(CONTRAST_WORDS, key=len, reverse=True)
    for begin, end in spans:
        piece = text[begin:end]
        cut = begin
        position = 1
        while position < len(piece):
            word = next((w for w in ordered if piece.startswith(w, position)), None)
            if word is not None:
                out.append((cut, begin + position))
                cut = begin + position
                position += len(word)
            else:
                position += 1
        out.append((cut, end))
    return out


def locate(text: str, tokens: Sequence[str]) -> tuple[int, int] | None:
    """The span of raw `text` that holds the clause made of `tokens` (content words, as cached): the clause
    span covering most of their characters; None when none of them is found."""
    wanted = [token for token in tokens if token]
    if not wanted:
        return None
    best: tuple[int, tuple[int, int]] | None = None
    for start, end in text_clauses(text):
        piece = unicodedata.normalize("NFKC", text[start:end]).lower()
        covered = sum(len(token) for token in wanted if token in piece)
        if covered and (best is None or covered > best[0]):
            best = (covered, (start, end))
    return best[1] if best else None
