"""jieba-rs (rjieba) must cut exactly like the reference Python jieba (HMM off) with the same dictionary."""

import json
from pathlib import Path

from django.conf import settings

from analytics import text

TRICKY = [
    "老师就是照着PPT念，没有任何实战经验",
    "用gopath和go-mod, golang很好google; context.withtimeout/sync.pool",
    "压测、限流、熔断都没讲;goroutine泄漏也没讲",
    'fmt.errorf("%v", err) 把原始错误吞了, %w 没提',
    "㐀㐁 鿿 abc123def 3.14 a+b c# c++ x-y_z at&t",
    "表格驱动测试、table-driven-test、hello-world、chan-int",
    "一二三四五六七八九十百千万亿，。！？、；：“”‘’（）《》【】",
    "这门课的讲师只会照着投影片念",
]


def _corpus() -> list[str]:
    reviews = Path(settings.BASE_DIR) / "demo" / "reviews.jsonl"
    texts = [
        json.loads(line)["text"] for line in reviews.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    assert len(texts) > 100, "the demo corpus is the comparison set"
    return texts + TRICKY


def test_it_cuts_every_demo_review_exactly_like_reference_jieba():
    production = text.get_segmenter()
    reference = text.reference_segmenter()
    normalised = production.normaliser.normalise_many(_corpus())
    differences = [
        (line, production.cut(line), reference.cut(line))
        for line in normalised
        if production.cut(line) != reference.cut(line)
    ]
    assert differences == []


def test_it_loads_the_same_user_dictionary_into_both_engines():
    production = text.get_segmenter()
    reference = text.reference_segmenter()
    for entry in text.load_user_dictionary():
        assert production.cut(entry.word) == [entry.word] == reference.cut(entry.word)
