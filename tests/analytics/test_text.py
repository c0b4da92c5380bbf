"""Normalisation and segmentation of review text (analytics/text.py), on plain strings."""

import pytest

from analytics import text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＧＯＰＡＴＨ　还在用", "gopath 还在用"),  # full-width letters and space → half-width, lowercased
        ("老師照著ＰＰＴ念，沒有任何實戰經驗", "老师照着ppt念,没有任何实战经验"),  # traditional → simplified
        ("看这里 https://github.com/foo/bar?x=1 吧", "看这里 吧"),  # URLs dropped
        ("讲得太浅了😂😂👍🏻", "讲得太浅了"),  # emoji and skin tones dropped
        ("Hello World 级别", "hello-world 级别"),  # phrase with a space joined
        ("用 Go  Mod 管理", "用 go-mod 管理"),
        ("table_driven tests", "table-driven tests"),
        ("gomod 和 helloworld", "go-mod 和 hello-world"),  # written without a space
        ("第一行\n第二行\r\n第三行", "第一行 第二行 第三行"),
    ],
)
def test_it_normalises_the_ways_learners_write_the_same_thing(raw, expected):
    assert text.normalise(raw) == expected


def test_it_leaves_simplified_text_that_zhconv_would_rewrite_alone():
    # zhconv's zh-cn table turns "什么正在" into "什幺正在"; simplified reviews must not change.
    assert text.normalise("讲的什么正在看") == "讲的什么正在看"


def test_it_keeps_dictionary_terms_whole():
    tokens = text.segment(
        "goroutine 泄漏没讲，Context.WithTimeout 也没有，sync.Pool 一笔带过；GOPATH 和 go mod 都提了，"
        "压测、限流、熔断全没有"
    )
    for term in ["goroutine", "context.withtimeout", "sync.pool", "gopath", "go-mod", "压测", "限流", "熔断"]:
        assert term in tokens


def test_it_keeps_negations_and_complaint_words_but_drops_function_words():
    tokens = text.segment("老师就是照着PPT念，没有任何实战经验，也不讲原理，没讲测试")
    assert {"照着", "ppt", "念", "没有", "不", "没"} <= set(tokens)
    assert "的" not in tokens and "," not in tokens and "也" not in tokens


def test_it_does_not_split_latin_words_that_contain_a_dictionary_term():
    assert text.segment("channel 和 contexts") == ["channel", "contexts"]


@pytest.mark.parametrize("raw", ["", "   ", "😂😂😂", "！！！。。。", "https://example.com/only-a-link"])
def test_it_returns_no_tokens_for_text_without_words(raw):
    assert text.segment(raw) == []


def test_it_segments_english_only_reviews():
    assert text.segment("The examples are toy code, no timeouts and no tests.") == [
        "examples",
        "toy",
        "code",
        "no",
        "timeouts",
        "no",
        "tests",
    ]


def test_it_segments_a_5000_character_review():
    review = ("没有超时控制，goroutine 泄漏。" * 300)[:5000]
    tokens = text.segment(review)
    assert tokens.count("goroutine") == review.count("goroutine") > 200


def test_it_segments_a_batch_exactly_like_one_review_at_a_time():
    reviews = [
        "老师照着PPT念",
        "",
        "多行\n评价\n这里",
        "😂",
        "Hello World 级别的例子，只传 chan int",
        "這門課的講師只會念稿",
    ] * 50
    segmenter = text.get_segmenter()
    assert segmenter.words_many(reviews) == [segmenter.words(review) for review in reviews]
    assert text.segment_many(reviews) == [text.segment(review) for review in reviews]
    words = segmenter.words_many(reviews)
    assert segmenter.filter_many(words) == [segmenter.filter(review_words) for review_words in words]


def test_it_rejects_a_user_dictionary_line_that_is_not_normalised(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text("GOPATH 100 n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1"):
        text.load_user_dictionary(path)
