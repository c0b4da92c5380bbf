"""The real-data quality figures (bench/real_eval.py) are computed right, and the hand labels stay usable.

Each metric is checked on a tiny input whose answer was worked out by hand, so a metric computed the wrong
way (unassigned reviews as many buckets, praise left out of precision, the largest share over the wrong total)
fails here rather than quietly moving a benchmark figure.
"""

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("real_eval", ROOT / "bench" / "real_eval.py")
real_eval = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("real_eval", real_eval)
_spec.loader.exec_module(real_eval)


def report(**signals: list[str]) -> dict:
    return {
        "run": 1,
        "signals": [{"key": key, "review_ids": ids, "size": len(ids)} for key, ids in signals.items()],
        "unassigned_complaints": [],
    }


def test_it_reads_which_signal_holds_each_review_and_refuses_a_review_in_two():
    assert real_eval.report_assignment(report(s1=["a", "b"], s2=["c"])) == {"a": "s1", "b": "s1", "c": "s2"}
    assert real_eval.report_sizes(report(s1=["a", "b"], s2=[])) == {"s1": 2, "s2": 0}
    with pytest.raises(ValueError, match="two signals"):
        real_eval.report_assignment(report(s1=["a"], s2=["a"]))


def test_it_tells_by_stars_whether_a_theme_complaint_was_placed_left_unassigned_or_not_taken():
    labels = {"a": "audio", "b": "audio", "c": "video", "d": "video", "p": "praise"}
    ratings = {"a": 1, "b": 3, "c": 5, "d": 2, "p": 1}
    made = report(s1=["a", "p"])
    made["unassigned_complaints"] = ["b"]
    table = real_eval.where_complaints_went(made, labels, ratings, ["audio", "video"])
    assert table == {
        "1–2★": {"in a signal": 1, "a complaint in no signal": 0, "not taken for a complaint": 1},
        "3★": {"in a signal": 0, "a complaint in no signal": 1, "not taken for a complaint": 0},
        "4–5★": {"in a signal": 0, "a complaint in no signal": 0, "not taken for a complaint": 1},
    }
    assert "not taken for a complaint" in real_eval.format_where(table)


def test_it_counts_every_unassigned_complaint_in_one_bucket_for_nmi():
    labels = {"a1": "audio", "a2": "audio", "v1": "video", "v2": "video"}
    # predicted: s1, unassigned, s2, unassigned. H(truth) = 1 bit, H(pred) = 1.5 bits, MI = 0.5 bit,
    # NMI = 0.5 / ((1 + 1.5) / 2) = 0.4. With each unassigned review as its own cluster it would be 2/3.
    scores = real_eval.score({"a1": "s1", "v1": "s2"}, labels, sizes={"s1": 1, "s2": 1})
    assert scores.nmi == pytest.approx(0.4)
    # Only the two placed complaints, each theme in its own signal: a perfect match.
    assert scores.placed == 2
    assert scores.nmi_placed == pytest.approx(1.0)


def test_it_gives_nmi_one_for_a_renamed_perfect_split_and_zero_for_an_unrelated_one():
    labels = {"a1": "audio", "a2": "audio", "v1": "video", "v2": "video"}
    perfect = real_eval.score({"a1": "x", "a2": "x", "v1": "y", "v2": "y"}, labels, sizes={"x": 2, "y": 2})
    unrelated = real_eval.score({"a1": "x", "a2": "y", "v1": "x", "v2": "y"}, labels, sizes={"x": 2, "y": 2})
    assert perfect.nmi == pytest.approx(1.0)
    assert unrelated.nmi == pytest.approx(0.0)


def test_it_matches_each_theme_with_the_signal_of_best_f1_counting_praise_against_precision():
    labels = {
        "a1": "audio",
        "a2": "audio",
        "a3": "audio",
        "v1": "video",
        "v2": "video",
        "p1": "praise",
    }
    assignment = {"a1": "s1", "a2": "s1", "p1": "s1", "a3": "s2", "v1": "s2"}
    matches = {m.theme: m for m in real_eval.theme_matches(assignment, labels, ["audio", "video"])}
    # s1 holds a1, a2 and a praise review: P = 2/3, R = 2/3 (F1 .67) beats s2's P = 1/2, R = 1/3 (F1 .40).
    assert matches["audio"].signal == "s1"
    assert matches["audio"].precision == pytest.approx(2 / 3)
    assert matches["audio"].recall == pytest.approx(2 / 3)
    assert matches["audio"].recovered
    # s2 for video: P = 1/2, R = 1/2: just recovered (P ≥ .5, R ≥ .4).
    assert (matches["video"].signal, matches["video"].precision, matches["video"].recall) == ("s2", 0.5, 0.5)
    assert matches["video"].recovered


def test_it_does_not_count_a_theme_as_recovered_below_either_threshold():
    labels = {f"a{n}": "audio" for n in range(5)} | {f"p{n}": "praise" for n in range(3)}
    # s1: 2 of 5 audio (R = .4) among 4 reviews (P = .5): recovered. Add one praise: P = .4, not recovered.
    four = {"a0": "s1", "a1": "s1", "p0": "s1", "p1": "s1"}
    recovered = real_eval.theme_matches(four, labels, ["audio"])[0]
    diluted = real_eval.theme_matches(four | {"p2": "s1"}, labels, ["audio"])[0]
    too_few = real_eval.theme_matches({"a0": "s1"}, labels, ["audio"])[0]
    assert recovered.recovered
    assert not diluted.recovered and diluted.precision == pytest.approx(0.4)
    assert not too_few.recovered and too_few.recall == pytest.approx(0.2)
    nothing = real_eval.theme_matches({}, labels, ["audio"])[0]
    assert (nothing.signal, nothing.f1, nothing.recovered) == (None, 0.0, False)


def test_it_reports_the_shares_of_praise_low_star_praise_and_spam_that_land_in_signals():
    labels = {"p1": "praise", "p2": "praise", "p3": "praise", "p4": "praise", "x1": "spam", "x2": "spam"}
    ratings = {"p1": 1, "p2": 2, "p3": 5, "p4": 5, "x1": 1, "x2": 5}
    assignment = {"p1": "s1", "p3": "s1", "p4": "s2", "x2": "s2"}
    scores = real_eval.score(assignment, labels, sizes={"s1": 2, "s2": 2}, ratings=ratings, themes=[])
    assert scores.praise_in_signals == pytest.approx(3 / 4)
    assert scores.low_praise_in_signals == pytest.approx(1 / 2)  # p1 of p1, p2
    assert scores.spam_in_signals == pytest.approx(1 / 2)
    assert real_eval.share_in_signals([], assignment) is None


def test_it_takes_the_largest_share_over_all_assigned_reviews_and_counts_only_signals_holding_some():
    assert real_eval.largest_share({"s1": 6, "s2": 3, "s3": 1}) == pytest.approx(0.6)
    assert real_eval.largest_share({}) == 0.0
    scores = real_eval.score({}, {"a": "audio"}, sizes={"s1": 6, "s2": 3, "s3": 1, "empty": 0})
    assert scores.signals == 3
    assert scores.largest_share == pytest.approx(0.6)
    # Other themes of the labels that are not scored as themes: praise, spam and other never are.
    assert [m.theme for m in scores.themes] == ["audio"]


def test_it_separates_two_obvious_groups_with_the_seeded_baseline():
    texts = {
        "a1": "声音太小听不清",
        "a2": "声音太小了，听不清楚",
        "a3": "录音声音小，听不清",
        "v1": "视频卡顿播放失败",
        "v2": "视频一直卡顿，播放失败",
        "v3": "播放失败，视频卡顿",
    }
    clusters = real_eval.baseline_assignment(texts, k=2, analyzer="chars")
    assert clusters == real_eval.baseline_assignment(texts, k=2, analyzer="chars")
    assert len({clusters["a1"], clusters["a2"], clusters["a3"]}) == 1
    assert len({clusters["v1"], clusters["v2"], clusters["v3"]}) == 1
    assert clusters["a1"] != clusters["v1"]
    with pytest.raises(ValueError, match="analyzer"):
        real_eval.baseline_assignment(texts, k=2, analyzer="bytes")


def test_it_refuses_a_label_file_with_an_unknown_label_or_a_repeated_id(tmp_path):
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_text('{"id": "a", "label": "audio"}\n{"id": "b", "label": "sound"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown label 'sound'"):
        real_eval.load_labels(unknown)
    twice = tmp_path / "twice.jsonl"
    twice.write_text('{"id": "a", "label": "audio"}\n{"id": "a", "label": "video"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="labelled twice"):
        real_eval.load_labels(twice)


# The counts documented in bench/data/README.md ("Real-review labels"); this fails when the file drifts.
DOCUMENTED_COUNTS = {
    "delivery": 163,
    "praise": 134,
    "too_hard": 105,
    "other": 81,
    "too_shallow": 75,
    "platform": 35,
    "spam": 35,
    "no_practice": 33,
    "materials": 28,
    "unfinished": 26,
    "video": 23,
    "audio": 21,
    "content_errors": 21,
    "price_upsell": 19,
    "no_response": 11,
}


def test_it_keeps_only_ids_and_labels_and_every_id_is_a_real_rated_review():
    path = ROOT / "bench" / "data" / "real_labels.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert all(set(row) == {"id", "label"} for row in rows), "texts must stay in ../shared/data/real"
    labels = real_eval.load_labels(path)
    assert Counter(labels.values()) == DOCUMENTED_COUNTS
    reviews = real_eval.load_reviews(real_eval.REAL_DIR / name for name in real_eval.RATED_FILES)
    assert set(labels) <= set(reviews)
    assert {int(reviews[i]["rating"]) for i in labels} == {1, 2, 3, 4, 5}
