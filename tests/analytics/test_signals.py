"""Signal extraction maths (analytics/signals/) on plain lists: no database.

Guided assignment and the incremental assigner run on small hand-made complaint clauses; discovery runs on
real reviews from ../shared/data/real/ (tests/analytics/real_corpus.py), where it must find themes of its own.
"""

import functools
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from analytics import clauses, embeddings, signals, text
from analytics.clauses import Clause
from analytics.signals import discovery

from .real_corpus import real_corpus

SEEDS = {
    "no_production": ["超时", "没有 超时", "context.WithTimeout", "重试", "熔断"],
    "outdated_tooling": ["GOPATH", "go mod", "老版本", "过时"],
}


def _packed(review: str, *, complaint: bool) -> str:
    segmenter = text.get_segmenter()
    found = clauses.split(segmenter.words(review), segmenter.keep)
    return clauses.pack(Clause(clause.tokens, clause.contrast, complaint) for clause in found)


def _specs(courses=None):
    return [
        signals.SignalSpec(
            key=key,
            terms=signals.seed_phrases(terms, text.segment),
            courses=courses,
            scope=("go",) if courses is not None else (),
        )
        for key, terms in SEEDS.items()
    ]


GO_COMPLAINTS = [
    "调用下游没有超时，也没有重试",
    "HTTP 客户端不设超时，一次都没用过 context.WithTimeout",
    "还在用 GOPATH，go mod 一句没提",
    "老版本的 Go，早就过时了",
]


def _extract_real(corpus, specs, **options):
    """The real corpus extracted as the product extracts it: with its word vectors and the evidence of its
    complaint model."""
    return signals.extract(
        corpus.packed,
        corpus.courses,
        specs,
        vectors=corpus.vectors,
        evidence=corpus.model.log_odds_many,
        **options,
    )


def _assign_real(result, corpus, tokens):
    """A new review of one clause placed as the product places it: with the corpus's vectors and evidence."""
    return signals.assign_one(
        result.assigner,
        [tokens],
        vectors=corpus.vectors,
        evidence=corpus.model.log_odds_many([tokens]).tolist(),
    )


def _extract(packed, courses, specs, **parameters):
    return signals.extract(packed, courses, specs, vectors=None, parameters=signals.Parameters(**parameters))


def test_it_assigns_complaints_to_the_seeded_signal_they_describe():
    packed = [_packed(review, complaint=True) for review in GO_COMPLAINTS]
    result = _extract(packed, ["go"] * 4, _specs())
    members = {group.key: sorted(group.members) for group in result.groups}
    assert members == {"no_production": [0, 1], "outdated_tooling": [2, 3]}


def test_it_keeps_a_scoped_seed_to_its_courses():
    packed = [_packed(review, complaint=True) for review in GO_COMPLAINTS]
    result = _extract(packed, ["go", "go", "java", "java"], _specs(courses=frozenset({"go"})))
    members = {group.key: sorted(group.members) for group in result.groups}
    assert members == {"no_production": [0, 1]}
    assert result.unassigned == [2, 3]


def test_it_never_assigns_praise_or_noise():
    packed = [_packed(GO_COMPLAINTS[0], complaint=False), "", _packed(GO_COMPLAINTS[2], complaint=True)]
    result = _extract(packed, ["go"] * 3, _specs())
    assert [group.members for group in result.groups] == [[2]]
    assert result.complaint.tolist() == [False, False, True]


def test_it_takes_a_seeded_signal_only_where_a_seed_phrase_occurs():
    packed = [_packed("视频看到一半就会卡住", complaint=True), _packed("调用下游没有超时", complaint=True)]
    result = _extract(packed, ["go"] * 2, _specs())
    assert [(group.key, group.members) for group in result.groups] == [("no_production", [1])]


def test_it_assigns_one_new_review_like_the_run_would():
    packed = [_packed(review, complaint=True) for review in GO_COMPLAINTS]
    result = _extract(packed, ["go"] * 4, _specs(courses=frozenset({"go"})))
    keys = [group.key for group in result.groups]
    found = signals.assign_one(result.assigner, [text.segment("服务调用没有超时")], course_tags={"Go", "web"})
    assert found is not None and keys[found[0]] == "no_production"
    assert (
        signals.assign_one(result.assigner, [text.segment("服务调用没有超时")], course_tags={"java"}) is None
    )
    assert signals.assign_one(result.assigner, [text.segment("天气不错")], course_tags={"go"}) is None
    assert signals.assign_one(result.assigner, [], course_tags={"go"}) is None


@pytest.mark.parametrize(
    ("title", "tags", "inside"),
    [
        ("Java 入门", ["Go"], True),
        ("Go Web 后端全栈训练营", [], True),
        ("Gopher 修炼手册", [], False),
        ("Let's go 学 Python", [], True),  # a title can name a scope word by accident; tags decide better
        ("Python 爬虫", ["python"], False),
    ],
)
def test_it_puts_a_course_in_a_scope_by_its_tags_or_its_title(title, tags, inside):
    assert signals.in_scope(["go"], title=title, tags=tags) is inside
    assert signals.in_scope([], title=title, tags=tags) is True


@pytest.mark.parametrize("rows", [[], [""], [_packed("还行", complaint=False)]])
def test_it_handles_corpora_without_enough_material(rows):
    result = _extract(rows, ["c"] * len(rows), _specs())
    assert result.groups == [] and result.unassigned == []


@pytest.mark.slow
def test_it_discovers_coherent_themes_in_real_reviews_with_no_catch_all():
    corpus = real_corpus()
    result = _extract_real(
        corpus, [], keyword_stopwords=text.load_stopwords(text.DATA_DIR / "keyword_stopwords.txt")
    )
    assigned = result.counts["assigned"]
    assert len(result.groups) >= 8
    assert max(len(group.members) for group in result.groups) <= 0.35 * assigned
    # What fits nowhere stays unassigned rather than swelling a signal.
    assert result.unassigned
    # Keywords a person reads: no single characters, no numbers.
    for group in result.groups:
        assert group.keywords
        for keyword, _weight in group.keywords:
            assert len(keyword) >= 2 and not any(char.isdigit() for char in keyword), keyword
    # Recurring real complaints surface as their own themes.
    tops = [" ".join(keyword for keyword, _weight in group.keywords[:5]) for group in result.groups]
    # (Video that stalls is not asked of discovery alone: in these two files it is about 50 complaint
    # clauses, and whether they form a theme of their own or sink into "不了 · 无法" with software that will
    # not install turns on the k-means seed. The seeded video_playback signal takes them: see below.)
    for theme_words in (("声音",), ("ppt", "照本宣科"), ("字幕",), ("下载", "课件", "源码")):
        assert any(any(word in top for word in theme_words) for top in tops), (theme_words, tops)
    # Praise-only reviews and noise never sit in a signal.
    in_signals = {member for group in result.groups for member in group.members}
    assert all(any(clause.complaint for clause in corpus.reviews[i]) for i in in_signals)
    # The quote's clause is the complaint that put the review there.
    for group in result.groups:
        for member in group.representatives:
            assert group.clauses[member]


SHIPPED_SEEDS = Path(__file__).resolve().parents[2] / "analytics" / "data" / "seeds.json"


@pytest.mark.slow
def test_the_shipped_course_wide_signals_hold_the_real_complaints_they_name():
    corpus = real_corpus()
    shipped = json.loads(SHIPPED_SEEDS.read_text(encoding="utf-8"))
    specs = [
        signals.SignalSpec(
            key=seed["key"],
            terms=signals.seed_phrases(seed["seed_terms"], text.segment),
            # The real courses are not Go courses: the Go signals are in scope nowhere.
            courses=frozenset() if seed["scope_tags"] else None,
            scope=tuple(seed["scope_tags"]),
        )
        for seed in shipped
    ]
    result = _extract_real(corpus, specs)
    defined = {group.key: group for group in result.groups if not group.discovered}
    assert not {seed["key"] for seed in shipped if seed["scope_tags"]} & set(defined)
    for key in ("video_playback", "audio_quality", "missing_materials", "price_upsell", "delivery"):
        assert len(defined[key].members) >= 10, key
    assert max(len(group.members) for group in result.groups) <= 0.35 * result.counts["assigned"]
    # A real learner's words for a video that will not load, a quiet recording, an unanswered question or a
    # lecturer reading slides land in the signal that names them, for a new review as in the run.
    segmenter = text.get_segmenter()
    for review, key in (
        ("视频一直加载不出来", "video_playback"),
        ("声音太小，根本听不清", "audio_quality"),
        ("问老师问题没人回复", "no_response"),
        ("老师全程照着ppt念", "delivery"),
    ):
        found = _assign_real(result, corpus, segmenter.tokens(review))
        assert found is not None and result.groups[found[0]].key == key, review
    quiet = defined["audio_quality"]
    # What it holds says what it means: its quoted clauses speak of the sound.
    assert sum("音" in quiet.clauses[member] for member in quiet.members) >= 0.8 * len(quiet.members)


@pytest.mark.slow
def test_a_defined_signal_takes_its_complaint_in_other_words_and_no_candidate_repeats_it():
    corpus = real_corpus()
    shipped = [
        seed for seed in json.loads(SHIPPED_SEEDS.read_text(encoding="utf-8")) if not seed["scope_tags"]
    ]
    specs = [
        signals.SignalSpec(key=seed["key"], terms=signals.seed_phrases(seed["seed_terms"], text.segment))
        for seed in shipped
    ]
    result = _extract_real(corpus, specs)
    phrases = {spec.key: spec.terms for spec in specs}

    def seeded(key: str, tokens: list[str]) -> bool:
        return any(all(token in tokens for token in phrase) for phrase in phrases[key])

    defined = {group.key: group for group in result.groups if not group.discovered}
    quiet = defined["audio_quality"]
    in_other_words = [m for m in quiet.members if not seeded("audio_quality", quiet.clauses[m].split())]
    assert len(in_other_words) >= 10
    # ...and they still speak of the sound ("视频声音能再大一点", "收录的声音忽大忽小").
    assert sum("音" in quiet.clauses[m] for m in in_other_words) >= 0.7 * len(in_other_words)
    # A new theme is not a defined signal found again under other keywords.
    for group in result.groups:
        if group.discovered:
            for other in defined.values():
                assert float(np.dot(group.centroid, other.centroid)) < signals.Parameters().merge_similarity
    # A new review is placed the same way: no seed phrase in it, its signal by what it means.
    segmenter = text.get_segmenter()
    # (Each is a complaint by its own words, as the product asks before it places a review.)
    for review, key in (("声音忽大忽小", "audio_quality"), ("视频里的声音太轻", "audio_quality")):
        tokens = segmenter.tokens(review)
        assert not seeded(key, tokens), review
        found = _assign_real(result, corpus, tokens)
        assert found is not None and result.groups[found[0]].key == key, review


@pytest.mark.slow
def test_it_gives_the_same_result_on_unchanged_data():
    corpus = real_corpus()
    first, second = (
        signals.extract(
            corpus.packed[:20000],
            corpus.courses[:20000],
            [],
            vectors=corpus.vectors,
            evidence=corpus.model.log_odds_many,
        )
        for _ in range(2)
    )
    assert [g.members for g in first.groups] == [g.members for g in second.groups]
    assert [g.keywords for g in first.groups] == [g.keywords for g in second.groups]


@pytest.mark.slow
def test_it_assigns_a_new_real_complaint_to_the_discovered_theme_it_belongs_to():
    corpus = real_corpus()
    result = _extract_real(corpus, [])
    segmenter = text.get_segmenter()
    for review, word in (
        ("老师声音太小了", "声音"),
        ("视频没有字幕", "字幕"),
        ("老师全程照着ppt念", "ppt"),
    ):
        found = _assign_real(result, corpus, segmenter.tokens(review))
        assert found is not None, review
        keywords = " ".join(keyword for keyword, _weight in result.groups[found[0]].keywords)
        assert word in keywords, (review, keywords)


def test_it_summarises_shares_lift_and_trends_and_counts_undated_reviews():
    packed = [_packed(review, complaint=True) for review in GO_COMPLAINTS] + [
        _packed("讲得很好", complaint=False)
    ] * 4
    result = _extract(packed, ["a", "b", "a", "b", "a", "b", "a", "b"], _specs())
    months = ["2025-01", "2025-02", None, "2025-02", "2025-01", None, "2025-02", "2025-02"]
    report = signals.summarise(
        result,
        ratings=[2, 2, 2, 2, 5, 5, 5, 5],
        months=months,
        courses=["a", "b", "a", "b", "a", "b", "a", "b"],
        instructors={"a": ["alice"], "b": ["bob", "alice"]},
    )
    assert report["complaints"] == 4
    assert report["months"] == ["2025-01", "2025-02"]
    assert report["undated"] == 2 and report["undated_complaints"] == 1
    assert sum(report["complaints_by_month"]) == 3
    for summary, group in zip(report["signals"], result.groups, strict=True):
        assert summary["size"] == len(group.members)
        assert sum(summary["trend"]) + summary["undated"] == len(group.members)
        assert summary["lift"] == pytest.approx(2.0)  # 2★ inside; 2, 2, 5, 5, 5, 5 outside
        alice = next(row for row in summary["by_instructor"] if row["id"] == "alice")
        assert alice["count"] == len(group.members)
    assert result.counts["complaints"] == 4


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"colour": 1}, "unknown"),
        ({"seed": "x"}, "number"),
        ({"seed": 1.5}, "whole"),
        ({"max_clusters": -1}, "negative"),
    ],
)
def test_it_rejects_bad_run_parameters(values, message):
    with pytest.raises(ValueError, match=message):
        signals.Parameters.from_mapping(values)


def test_it_drops_seed_terms_that_would_match_almost_anything():
    phrases = signals.seed_phrases(["没做过", "照着 PPT 念", "GOPATH", "的"], text.segment)
    assert phrases == (("照着", "ppt", "念"), ("gopath",))


def test_it_counts_terms_into_a_sparse_matrix():
    vocabulary = {}
    matrix = signals.count_matrix(["a b a", "", "c"], vocabulary, grow=True)
    assert vocabulary == {"a": 0, "b": 1, "c": 2}
    assert matrix.toarray().tolist() == [[2, 1, 0], [0, 0, 0], [0, 0, 1]]
    fixed = signals.count_matrix(["a z", ""], vocabulary, grow=False)
    assert fixed.toarray().tolist() == [[1, 0, 0], [0, 0, 0]]
    assert signals.count_matrix([], vocabulary, grow=True).shape == (0, 3)
    assert list(itertools.chain.from_iterable(signals.tfidf(matrix, signals.idf_weights(matrix)).toarray()))


def _theme_vectors() -> tuple[embeddings.WordVectors, dict[str, list[str]]]:
    """Word vectors where each theme's words lie together (one axis per theme, a little noise)."""
    themes = {
        "sound": ["声音", "太小", "音量", "录音", "嘈杂", "听不清", "收音", "刺耳"],
        "video": ["视频", "卡顿", "转圈", "加载", "黑屏", "模糊", "缓冲", "花屏"],
        "price": ["太贵", "收费", "价格", "退款", "骗钱", "割韭菜", "不值", "推销"],
    }
    rng = np.random.default_rng(0)
    words, rows = [], []
    for axis, theme in enumerate(themes.values()):
        for word in theme:
            row = np.eye(8)[axis] + 0.15 * rng.standard_normal(8)
            words.append(word)
            rows.append(row / np.linalg.norm(row))
    vectors = embeddings.WordVectors(
        words=words,
        vectors=np.asarray(rows, dtype=np.float32),
        frequency=np.full(len(words), 0.01, dtype=np.float32),
        common=np.zeros(0, dtype=np.float32),
    )
    return vectors, themes


def test_a_defined_signal_takes_clauses_in_other_words_only_within_its_scope():
    vectors, themes = _theme_vectors()
    sound, video, price = themes.values()
    # The seeds took these (some clauses say more than their theme: "视频声音太小"); the leftover clauses say
    # the same in other words, or speak of other themes.
    seeded = [
        [sound[0], sound[1]],
        [video[0], sound[2], sound[1]],
        [sound[0], sound[5]],
        [sound[2], price[2]],
    ]
    leftover = [[a, b] for a, b in itertools.combinations(sound[3:], 2)]  # 录音 嘈杂, 收音 刺耳, …
    leftover += [[a, b] for a, b in itertools.combinations(video, 2)]
    leftover += [[a, b] for a, b in itertools.combinations(price, 2)]
    sounds = len(list(itertools.combinations(sound[3:], 2)))
    params = signals.Parameters(min_cluster_size=3, min_cluster_share=0.0)

    everywhere = discovery.discover(leftover, vectors, params, [discovery.Anchor(seeded)])
    taken = everywhere.anchored[0]
    assert taken is not None and sorted(taken.rows.tolist()) == list(range(sounds))
    # No new group repeats the defined signal: the other themes are discovered, the sound is not.
    assert all(set(rows.tolist()).isdisjoint(range(sounds)) for rows in everywhere.rows)
    assert len(everywhere.rows) == 2

    # Scoped to some courses: only their clauses; the rest are free to be discovered.
    allowed = np.zeros(len(leftover), dtype=bool)
    allowed[: sounds // 2] = True
    scoped = discovery.discover(leftover, vectors, params, [discovery.Anchor(seeded, allowed)])
    taken = scoped.anchored[0]
    assert taken is not None and sorted(taken.rows.tolist()) == list(range(sounds // 2))
    assert not any(set(rows.tolist()) & set(range(sounds // 2)) for rows in scoped.rows)
    # Too few seed-matched clauses to say where a signal lies: it takes nothing by meaning.
    assert discovery.discover(leftover, vectors, params, [discovery.Anchor(seeded[:1])]).anchored == [None]


def test_a_long_clause_posted_twice_gives_no_keywords_but_learners_saying_the_same_do():
    rant = "录音的声音太差我的地址是北京市西城区真武庙路二条九号中央电视台音像资料馆随意来找我"
    reviews = [rant, rant.replace("我的地址", "我地址") + "！", "声音太小", "声音太小", "声音太小，听不清"]
    packed = [_packed(review, complaint=True) for review in reviews]
    spec = signals.SignalSpec(key="audio", terms=signals.seed_phrases(["声音"], text.segment))
    (group,) = _extract(packed, ["c"] * len(packed), [spec], assign_threshold=0.05).groups
    assert sorted(group.members) == [0, 1, 2, 3, 4]
    keywords = [keyword for keyword, _weight in group.keywords]
    assert "太小" in keywords
    assert not {"北京市", "西城区", "真武庙", "资料馆"} & set(keywords)


def test_a_new_review_joins_a_scoped_signal_by_meaning_only_in_its_courses():
    vectors, themes = _theme_vectors()
    sound, video, price = themes.values()

    def packed(*tokens: str) -> str:
        return clauses.pack([Clause(tuple(tokens), False, True)])

    seeded = [packed(sound[0], sound[1]), packed(sound[0], sound[2]), packed(sound[0], sound[5])] * 2
    others = [packed(a, b) for theme in (video, price) for a, b in itertools.combinations(theme[:5], 2)]
    spec = signals.SignalSpec(key="sound", terms=((sound[0],),), courses=frozenset({"go"}), scope=("go",))
    result = signals.extract(
        seeded + others,
        ["go"] * len(seeded) + ["java"] * len(others),
        [spec],
        vectors=vectors,
        parameters=signals.Parameters(min_cluster_size=3, min_cluster_share=0.0),
    )
    (group,) = [group for group in result.groups if group.key == "sound"]
    assert group.centroid  # placed where its seeds' clauses lie
    in_other_words = [[sound[3], sound[4]]]  # 录音 嘈杂: no seed phrase
    found = signals.assign_one(result.assigner, in_other_words, course_tags={"go"}, vectors=vectors)
    assert found is not None and result.groups[found[0]].key == "sound"
    found = signals.assign_one(result.assigner, in_other_words, course_tags={"java"}, vectors=vectors)
    assert found is None or result.groups[found[0]].key != "sound"


def test_only_clauses_whose_words_make_a_complaint_take_part_in_discovery():
    """A discovered theme has no seed phrase to vouch for it: a clause the rating alone made a complaint
    (its words barely lean to one) joins no discovery, in the run or when a new review comes."""
    vectors, themes = _theme_vectors()
    sound, video, price = themes.values()

    def packed(*tokens: str) -> str:
        return clauses.pack([Clause(tuple(tokens), False, True)])

    reviews = [
        packed(a, b) for theme in (sound, video, price) for a, b in itertools.combinations(theme[:6], 2)
    ]
    weak = {
        "听不清",
        "模糊",
    }  # the complaint model's words hardly lean to a complaint in clauses holding these

    def evidence(found):
        return np.array([0.2 if weak & set(tokens) else 3.0 for tokens in found])

    params = signals.Parameters(min_cluster_size=3, min_cluster_share=0.0)
    run = functools.partial(
        signals.extract, reviews, ["c"] * len(reviews), [], vectors=vectors, parameters=params
    )
    every, strong = run(), run(evidence=evidence)

    def members(result, word):
        return {m for group in result.groups for m in group.members if word in group.clauses[m].split()}

    for word in weak:
        assert members(every, word) and not members(strong, word), word
    assert all(members(strong, theme[0]) for theme in (sound, video, price))  # the rest is still discovered
    # A new review by meaning: only when its words make it a complaint as likely as the run asked.
    clause = [sound[2], sound[3]]
    found = signals.assign_one(strong.assigner, [clause], vectors=vectors, evidence=[3.0])
    assert found is not None
    joined = strong.groups[found[0]]
    assert all(set(sound) & set(joined.clauses[m].split()) for m in joined.members)  # the sound theme
    assert signals.assign_one(strong.assigner, [clause], vectors=vectors, evidence=[0.2]) is None
    # The bar is the run's parameter (a probability), kept as log-odds in the assigner.
    assert strong.assigner["evidence_bar"] == pytest.approx(params.evidence_bar, abs=1e-5)
    assert signals.Parameters(discovery_evidence=0.5).evidence_bar == pytest.approx(0.0)
