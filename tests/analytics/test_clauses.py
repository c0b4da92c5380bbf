"""Clauses (analytics/clauses.py): where one review's praise ends and its complaint begins."""

import pytest

from analytics import clauses, text
from analytics.signals.corpus import complaint_clauses


def _split(review: str) -> list[clauses.Clause]:
    segmenter = text.get_segmenter()
    return clauses.split(segmenter.words(review), segmenter.keep, segmenter.filler)


def test_it_cuts_a_review_at_punctuation_and_contrast_words():
    found = _split("讲得好，但是声音太小")
    assert len(found) == 2
    assert not found[0].contrast and found[1].contrast
    assert "声音" in found[1].tokens and "声音" not in found[0].tokens


def test_it_cuts_at_a_contrast_word_without_punctuation():
    found = _split("内容不错就是视频有点卡")
    assert [clause.contrast for clause in found] == [False, True]


@pytest.mark.parametrize(
    "review", ["请填写评价内容", "至少输入五个字", "凑字数", "此用户未填写评价内容", "输入5个字"]
)
def test_talk_of_the_review_form_alone_makes_no_clause(review):
    assert _split(review) == []


def test_talk_of_the_review_form_leaves_the_rest_of_the_review():
    found = _split("还好吧，至少输入五个字")
    assert [clause.tokens for clause in found] == [("还好",)]
    # Beside other words, the form's words are ordinary words.
    found = _split("评价很高，但是内容太浅，视频里输入的命令看不清")
    assert [clause.tokens[0] for clause in found] == ["评价", "内容", "视频"]
    assert "输入" in found[2].tokens


def test_it_keeps_a_reviews_clauses_and_decisions_in_one_string():
    review = [
        clauses.Clause(("老师", "讲", "好"), False, False),
        clauses.Clause(("声音", "太小"), True, True),
    ]
    packed = clauses.pack(review)
    assert clauses.COMPLAINT_MARK in packed
    assert clauses.unpack(packed) == review
    assert clauses.content(packed) == ["老师", "讲", "好", "声音", "太小"]
    assert clauses.unpack("") == []


def test_it_finds_the_character_span_of_each_clause_in_raw_text():
    raw = "讲得很好，但是声音太小了"
    spans = clauses.text_clauses(raw)
    pieces = [raw[start:end] for start, end in spans]
    assert pieces == ["讲得很好", "但是声音太小了"]


def test_it_marks_a_whole_clause_even_when_it_holds_spaces():
    raw = "讲得也一般，念 PPT 为主，但这个我忍了"
    start, end = clauses.locate(raw, ["念", "ppt"])
    assert raw[start:end] == "念 PPT 为主"


@pytest.mark.parametrize(
    "packed",
    [
        "",
        "| 讲得 好",
        "| 讲得 好 !^ 声音 太小",
        "!| 没有 超时 !| 没有 重试 ^ 希望 改进",
        "!^ c++ a^b x|y !| 最后",
        # Empty complaint clauses, before another marker or at the end; a word that starts with "!".
        "!| !^ 声音 太小 !|",
        "| 讲得 好 !| | 但是 !^ !x 卡",
    ],
)
def test_the_complaint_clauses_of_packed_reviews_are_those_unpack_marks_complaint(packed):
    # Read as one batch with other reviews around it, as a run reads the corpus.
    found, complaint = complaint_clauses(["!| 前面 的", packed, "", "| 后面"])
    expected = [clause.tokens for clause in clauses.unpack(packed) if clause.complaint]
    assert [
        tokens
        for tokens, review, whole in zip(found.tokens, found.review, found.whole, strict=True)
        if review == 1 and not whole
    ] == expected
    assert complaint.tolist() == [True, bool(expected), False, False]


def test_many_reviews_are_cut_as_one_at_a_time_on_real_reviews():
    """split_many (what a run's chunks use) gives exactly split()'s clauses, review by review."""
    from tests.analytics.real_corpus import real_corpus

    segmenter = text.get_segmenter()
    words = segmenter.words_many(real_corpus().texts[:20000])
    # Edge cases beside the real ones: no words, only punctuation, opened by a contrast word, only a
    # contrast word, a dropped word alone, talk of the review form alone and beside a clause.
    words += [[], ["，", "。"], ["但是", "声音", "太小"], ["但是"], ["的"], ["好", "，", "，", "但", "卡"]]
    words += [["填写", "评价"], ["好", "，", "凑", "字数"], ["凑", "字数", "，", "好"], ["字数", "太", "多"]]
    one_by_one = [clauses.pack(clauses.split(review, segmenter.keep, segmenter.filler)) for review in words]
    batch = clauses.split_many(words, segmenter.keep, segmenter.filler)
    assert clauses.write(batch, [False] * len(batch.markers)) == one_by_one
    read_back = clauses.read(one_by_one)
    assert batch.tokens == read_back.tokens
    assert batch.bounds.tolist() == read_back.bounds.tolist()
    assert batch.clause.tolist() == read_back.clause.tolist()
    assert one_by_one[-8:] == ["^ 声音 太小", "", "", "| 好 ^ 卡", "", "| 好", "| 好", "| 字数 太 多"]
    assert clauses.split_many([]).tokens == []


def test_complaint_clauses_read_from_the_string_are_those_unpack_marks_on_real_reviews():
    """clauses.complaint_tokens reads packed reviews with string operations: on 20k real reviews with
    every other clause decided a complaint, it gives exactly the complaint clauses unpack() reads."""
    from tests.analytics.real_corpus import real_corpus

    segmenter = text.get_segmenter()
    batch = clauses.split_many(segmenter.words_many(real_corpus().texts[:20000]), segmenter.keep)
    packed = clauses.write(batch, [i % 3 != 1 for i in range(len(batch.markers))])
    assert sum(clauses.COMPLAINT_MARK in review for review in packed) > 10000
    for review in packed:
        expected = [list(clause.tokens) for clause in clauses.unpack(review) if clause.complaint]
        assert clauses.complaint_tokens(review) == expected, review
