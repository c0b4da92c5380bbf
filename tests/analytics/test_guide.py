"""The public failure-signal guide (避雷手册): /guide/, /guide/<tag>/ and their JSON at /api/guide/."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from analytics.models import InstructorScore, ReviewSignal, SignalDefinition
from analytics.services import taxonomy
from tests.analytics import signal_data
from tests.factories import CourseFactory, InstructorFactory, ReviewFactory, TagFactory

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script>'


def praise(n: int, course, **fields) -> list:
    return ReviewFactory.create_batch(n, course=course, rating=5, text="讲得很好，例子贴近生产。", **fields)


@pytest.fixture
def guide_data():
    """Go: a (10 reviews, 4 toy), b (6 reviews, 1 toy, 2 timeouts), tiny (2 reviews, both toy).
    Python: py (5 reviews, 1 toy). 23 published reviews, 8 toy, 2 timeouts."""
    go = TagFactory(name="Go", slug="go")
    python = TagFactory(name="Python", slug="python")
    teacher = InstructorFactory(name="王老师", github_login="wang-go")
    a = CourseFactory(title="Go 高并发实战", tags=[go], instructors=[teacher])
    b = CourseFactory(title="Go Web 入门", tags=[go])
    tiny = CourseFactory(title="Go 小课", tags=[go])
    py = CourseFactory(title="Python 爬虫", tags=[python])
    run = signal_data.run()
    toy = signal_data.definition(
        "toy",
        status=SignalDefinition.Status.SEEDED,
        name_zh="示例玩具化",
        name_en="Toy examples",
        description="例子停留在 Hello World。",
        check_hint="看试看章节里的项目是不是计算器。",
    )
    timeouts = signal_data.definition("timeouts", name_zh="没有超时控制", name_en="No timeouts")
    pace = signal_data.definition("pace", status=SignalDefinition.Status.DISCOVERED, name_zh="语速太快")
    audio = signal_data.definition("audio", status=SignalDefinition.Status.DISMISSED, name_zh="音质差")
    june, july = (datetime(2026, month, 10, 12, tzinfo=UTC) for month in (6, 7))
    toy_reviews = (
        signal_data.reviews(2, course=a, month=june)
        + signal_data.reviews(2, course=a, month=july)
        + signal_data.reviews(1, course=b, month=july)
        + signal_data.reviews(2, course=tiny, month=july)
        + signal_data.reviews(1, course=py, month=july)
    )
    timeout_reviews = ReviewFactory.create_batch(
        2, course=b, created_at=july, rating=2, text=f"没有超时 {XSS}"
    )
    signal_data.cluster(run, toy, reviews=toy_reviews, quotes=[toy_reviews[3]])
    signal_data.cluster(run, timeouts, reviews=timeout_reviews)
    signal_data.cluster(run, pace, reviews=signal_data.reviews(1, course=a, month=july))
    signal_data.cluster(run, audio, reviews=signal_data.reviews(1, course=a, month=july))
    praise(2, a, created_at=june)
    praise(2, a, created_at=july)
    praise(3, b, created_at=july)
    praise(4, py, created_at=july)
    return {"go": go, "a": a, "b": b, "tiny": tiny, "py": py, "run": run, "toy": toy, "teacher": teacher}


def page(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def signal_section(html: str, key: str) -> str:
    start = html.index(f'id="signal-{key}"')
    end = html.find('class="card guide-signal"', start)
    return html[start : end if end > 0 else len(html)]


def test_it_headlines_how_many_reviews_gave_how_many_signals(client, guide_data):
    html = page(client, reverse("guide"))
    assert "23 条学员评价提炼的 2 个失效信号" in html
    assert f"第 #{guide_data['run'].pk} 次信号提取" in html
    assert f'href="{reverse("how-we-rank")}"' in html


def test_it_shows_each_public_signal_with_the_runs_numbers(client, guide_data):
    html = page(client, reverse("guide"))
    toy_count = ReviewSignal.objects.filter(run=guide_data["run"], cluster__definition__key="toy").count()
    assert toy_count == 8
    toy = signal_section(html, "toy")
    assert "34.8%" in toy  # 8 of 23
    assert "23 条评价中 8 条" in toy
    assert "例子停留在 Hello World。" in toy
    assert "看试看章节里的项目是不是计算器。" in toy
    assert "8.7%" in signal_section(html, "timeouts")  # 2 of 23
    assert html.index('id="signal-toy"') < html.index('id="signal-timeouts"')


def test_it_never_shows_discovered_or_dismissed_signals(client, guide_data):
    html = page(client, reverse("guide"))
    assert "语速太快" not in html and "音质差" not in html


def test_it_names_most_and_least_affected_courses_that_have_enough_reviews(client, guide_data):
    toy = signal_section(page(client, reverse("guide")), "toy")
    most = toy[toy.index("最常见的课程") :]
    # The two-review course is 100% toy, but two reviews do not make it "most affected".
    assert "Go 小课" not in toy
    assert most.index("Go 高并发实战") < most.index("Python 爬虫") < most.index("Go Web 入门")
    assert f'href="{guide_data["a"].get_absolute_url()}"' in most
    assert "40%" in most  # 4 of 10
    # All three courses with enough reviews have the signal, so none is left for "least".
    assert "最少见的课程" not in toy
    timeouts = signal_section(page(client, reverse("guide")), "timeouts")
    least = timeouts[timeouts.index("最少见的课程") :]
    assert "Go 高并发实战" in least and "Python 爬虫" in least and "0%" in least


def test_it_quotes_real_reviews_escaped_representatives_first(client, guide_data):
    html = page(client, reverse("guide"))
    assert XSS not in html
    assert "没有超时 &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    toy = signal_section(html, "toy")
    quotes = toy[toy.index('class="gs-quotes"') :]
    assert quotes.count("<q>") == 3
    representative = ReviewSignal.objects.get(
        cluster__definition__key="toy",
        review__in=guide_data["toy"].clusters.get().representative_reviews.all(),
    ).review
    assert quotes.index(f"#review-{representative.pk}") < quotes.index("</li>")


def test_it_charts_the_monthly_share_from_json_without_inline_scripts(client, guide_data):
    html = page(client, reverse("guide"))
    start = html.index('<script id="guide-trend-toy" type="application/json">')
    payload = html[html.index(">", start) + 1 : html.index("</script>", start)]
    trend = json.loads(payload)
    assert trend["months"][-2:] == ["2026-06", "2026-07"] and len(trend["months"]) == 12
    # June: 2 toy of 4 reviews; July: 6 toy (of the public signals' and praise reviews) of 19.
    assert trend["counts"][-2:] == [2, 6] and trend["totals"][-2:] == [4, 19]
    assert trend["shares"][-2:] == [50.0, 31.6]
    assert trend["shares"][0] is None
    assert 'data-chart="guide-trend"' in html and "js/guide.js" in html
    assert "<script>" not in html


def test_a_tag_guide_reads_only_that_tags_courses(client, guide_data):
    html = page(client, reverse("guide-tag", args=["go"]))
    assert "18 条学员评价提炼的 2 个失效信号" in html  # 10 + 6 + 2 Go reviews
    toy = signal_section(html, "toy")
    assert "18 条评价中 7 条" in toy
    assert "Python 爬虫" not in html
    assert "Go 避雷手册" in html


def test_an_unknown_tag_is_a_404(client, guide_data):
    assert client.get("/guide/no-such-tag/").status_code == 404
    assert client.get("/api/guide/no-such-tag/").status_code == 404


def test_without_a_current_run_it_shows_a_friendly_empty_state(client):
    praise(3, CourseFactory())
    signal_data.run(current=False, status="failed")
    html = page(client, reverse("guide"))
    assert "避雷手册正在准备中" in html
    assert "guide-signal" not in html
    body = client.get("/api/guide/").json()
    assert body["run"] is None and body["signals"] == [] and body["total_reviews"] == 3


def test_it_lists_the_instructors_with_the_strongest_verified_practice(client, guide_data):
    now = timezone.now()
    weak = InstructorFactory(name="李老师")
    nobody = InstructorFactory(name="赵老师")
    guide_data["b"].instructors.add(weak, nobody)
    for instructor, evidence, has_evidence in [
        (guide_data["teacher"], 0.91, True),
        (weak, 0.4, True),
        (nobody, 0.0, False),
    ]:
        InstructorScore.objects.create(
            instructor=instructor,
            computed_at=now,
            evidence=evidence,
            total=0.6,
            breakdown={"evidence": {"has_evidence": has_evidence}},
        )
    html = page(client, reverse("guide-tag", args=["go"]))
    section = html[html.index("可验证实战经验最强的讲师") :]
    assert section.index("王老师") < section.index("李老师")
    assert "赵老师" not in section
    assert "证据 91/100" in section
    assert 'href="https://github.com/wang-go"' in section


def test_it_is_shareable_printable_and_linked_from_the_nav_and_home(client, guide_data):
    html = page(client, reverse("guide-tag", args=["go"]))
    assert '<meta property="og:title" content="Go 避雷手册 · 课鉴">' in html
    assert '<meta property="og:description" content="18 条学员评价提炼的 2 个失效信号' in html
    assert '<meta property="og:image" content="http://testserver/static/img/guide-og.png">' in html
    assert 'href="/static/css/guide-print.css" media="print"' in html
    static = Path(settings.BASE_DIR) / "static"
    assert (static / "img" / "guide-og.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "@media" not in (static / "css" / "guide-print.css").read_text()  # all of it is for print
    assert ".topbar" in (static / "css" / "guide-print.css").read_text()
    assert f'href="{reverse("guide")}"' in page(client, reverse("home"))
    assert 'aria-current="page">避雷手册</a>' in html


def test_it_has_an_english_version(client, guide_data):
    html = page(client, reverse("guide"), HTTP_ACCEPT_LANGUAGE="en")
    assert "23 learner reviews distilled into 2 failure signals" in html
    assert "Toy examples" in html and "How to spot it before buying" in html


def test_it_shows_a_new_run_as_soon_as_it_is_current(client, guide_data):
    assert "34.8%" in signal_section(page(client, reverse("guide")), "toy")
    guide_data["run"].is_current = False
    guide_data["run"].save(update_fields=["is_current"])
    newer = signal_data.run()
    signal_data.cluster(newer, guide_data["toy"], reviews=list(guide_data["a"].reviews.all()[:1]))
    html = page(client, reverse("guide"))
    assert "23 条学员评价提炼的 1 个失效信号" in html
    assert "4.3%" in signal_section(html, "toy")  # 1 of 23


def test_the_api_returns_the_same_numbers(client, guide_data):
    body = client.get("/api/guide/").json()
    assert body["run"]["id"] == guide_data["run"].pk
    assert body["total_reviews"] == 23 and body["signal_count"] == 2
    toy = body["signals"][0]
    assert toy["key"] == "toy" and toy["count"] == 8 and toy["share"] == pytest.approx(8 / 23)
    assert toy["check_hint"] == "看试看章节里的项目是不是计算器。"
    assert [row["course"] for row in toy["most_common"]] == [
        guide_data["a"].slug,
        guide_data["py"].slug,
        guide_data["b"].slug,
    ]
    assert len(toy["quotes"]) == 3 and toy["quotes"][0]["url"].endswith(
        f"#review-{toy['quotes'][0]['review_id']}"
    )
    timeouts = body["signals"][1]
    assert XSS in timeouts["quotes"][0]["text"]  # JSON carries the text as written; pages escape it
    tagged = client.get("/api/guide/go/").json()
    assert tagged["tag"] == {"slug": "go", "name": "Go"} and tagged["total_reviews"] == 18


def test_seeding_fills_the_how_to_check_hint_without_overwriting_edits():
    taxonomy.seed_signal_definitions()
    toy = SignalDefinition.objects.get(key="toy_examples")
    assert toy.check_hint
    toy.check_hint = ""
    toy.save()
    edited = SignalDefinition.objects.get(key="no_production")
    edited.check_hint = "编辑写的提示"
    edited.save()
    assert taxonomy.seed_signal_definitions() == 0
    assert SignalDefinition.objects.get(key="toy_examples").check_hint
    assert SignalDefinition.objects.get(key="no_production").check_hint == "编辑写的提示"
    assert all(SignalDefinition.objects.values_list("check_hint", flat=True))


def test_a_signal_scoped_to_other_tags_stays_out_of_this_tags_guide(client, guide_data):
    SignalDefinition.objects.filter(key="toy").update(scope_tags=["GO"])  # tag names match in any case
    scoped = signal_data.definition("py-env", name_zh="虚拟环境混乱", scope_tags=["python"])
    signal_data.cluster(
        guide_data["run"],
        scoped,
        reviews=[
            guide_data["py"].reviews.filter(rating=5).first(),
            guide_data["a"].reviews.filter(rating=5).first(),
        ],
    )
    go_guide = page(client, reverse("guide-tag", args=["go"]))
    assert "虚拟环境混乱" not in go_guide and 'id="signal-toy"' in go_guide
    assert "18 条学员评价提炼的 2 个失效信号" in go_guide
    python_guide = page(client, reverse("guide-tag", args=["python"]))
    assert "虚拟环境混乱" in python_guide and 'id="signal-toy"' not in python_guide
    assert "5 条评价中 1 条" in signal_section(python_guide, "py-env")
    assert "虚拟环境混乱" in page(client, reverse("guide"))
    assert [signal["key"] for signal in client.get("/api/guide/go/").json()["signals"]] == ["toy", "timeouts"]


def test_quotes_mark_the_complaint_clause_and_escape_it(client, guide_data):
    cluster = guide_data["toy"].clusters.get()
    review = ReviewFactory(
        course=guide_data["a"], rating=2, text="老师讲得很好，但是例子全是玩具<b>代码</b>。"
    )
    ReviewSignal.objects.create(run=guide_data["run"], review=review, cluster=cluster, score=2.0)
    cluster.representative_reviews.add(review)
    cluster.quote_clauses = {str(review.pk): "例子 玩具 代码"}
    cluster.save(update_fields=["quote_clauses"])
    toy = signal_section(page(client, reverse("guide")), "toy")
    quoted = toy[toy.index(f"#review-{review.pk}") - 400 : toy.index(f"#review-{review.pk}")]
    assert "<q>老师讲得很好，<mark" in quoted  # the praise before it is quoted but not marked
    marked = quoted[quoted.index('<mark class="quote-clause">') : quoted.index("</mark>")]
    assert "例子全是玩具" in marked
    assert "&lt;b&gt;代码&lt;/b&gt;" in quoted and "<b>" not in toy
    quote = next(
        quote
        for quote in client.get("/api/guide/").json()["signals"][0]["quotes"]
        if quote["review_id"] == review.pk
    )
    assert "例子全是玩具" in quote["clause"] and "老师讲得很好" not in quote["clause"]


def test_the_english_guide_explains_each_signal_and_how_to_spot_it_in_english(client, guide_data):
    SignalDefinition.objects.filter(key="toy").update(
        description_en="Examples never leave Hello World.",
        check_hint_en="Check whether the trailer's project is a calculator.",
    )
    english = signal_section(page(client, reverse("guide"), HTTP_ACCEPT_LANGUAGE="en"), "toy")
    assert "Examples never leave Hello World." in english
    assert "Check whether the trailer&#x27;s project is a calculator." in english
    assert "例子停留在 Hello World。" not in english and "计算器" not in english
    chinese = signal_section(page(client, reverse("guide")), "toy")
    assert "例子停留在 Hello World。" in chinese and "看试看章节里的项目是不是计算器。" in chinese
    body = client.get("/api/guide/", HTTP_ACCEPT_LANGUAGE="en").json()
    toy = next(signal for signal in body["signals"] if signal["key"] == "toy")
    assert toy["description"] == "Examples never leave Hello World."
    assert toy["check_hint"] == "Check whether the trailer's project is a calculator."


def test_the_english_guide_falls_back_to_the_chinese_hint_when_none_was_written(client, guide_data):
    english = signal_section(page(client, reverse("guide"), HTTP_ACCEPT_LANGUAGE="en"), "toy")
    assert "看试看章节里的项目是不是计算器。" in english
    assert "例子停留在 Hello World。" in english


def test_every_shipped_signal_has_an_english_hint_and_seeding_fills_missing_ones():
    taxonomy.seed_signal_definitions()
    hints = dict(SignalDefinition.objects.values_list("key", "check_hint_en"))
    assert hints and all(hint.isascii() and len(hint) > 40 for hint in hints.values())
    SignalDefinition.objects.filter(key="toy_examples").update(check_hint_en="")
    SignalDefinition.objects.filter(key="no_production").update(check_hint_en="Edited by staff.")
    taxonomy.seed_signal_definitions()
    assert SignalDefinition.objects.get(key="toy_examples").check_hint_en == hints["toy_examples"]
    assert SignalDefinition.objects.get(key="no_production").check_hint_en == "Edited by staff."


def test_a_topic_guide_takes_the_courses_its_title_names_as_the_signals_scope_does(client, guide_data):
    # Imported courses carry no tags: the Go seeds still take their reviews by the title, so the Go guide
    # counts them too; "Gopher" is not "go".
    untagged = CourseFactory(title="Go 微服务实战", tags=[])
    lookalike = CourseFactory(title="Gopher 的 Python 课", tags=[])
    toy_reviews = signal_data.reviews(2, course=untagged)
    praise(1, untagged)
    praise(2, lookalike)
    signal_data.cluster(guide_data["run"], guide_data["toy"], reviews=toy_reviews)
    SignalDefinition.objects.filter(key="toy").update(scope_tags=["go"])
    veteran = InstructorFactory(name="孙老师")
    untagged.instructors.add(veteran)
    InstructorScore.objects.create(
        instructor=veteran,
        computed_at=timezone.now(),
        evidence=0.8,
        total=0.7,
        breakdown={"evidence": {"has_evidence": True}},
    )

    html = page(client, reverse("guide-tag", args=["go"]))
    assert "21 条学员评价提炼的 2 个失效信号" in html  # 18 tagged + 3 from the course titled Go
    assert "21 条评价中 9 条" in signal_section(html, "toy")
    assert "孙老师" in html[html.index("可验证实战经验最强的讲师") :]
    assert "Gopher" not in html
    assert client.get("/api/guide/go/").json()["total_reviews"] == 21
