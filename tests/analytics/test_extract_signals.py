"""`manage.py extract_signals [--json OUT]`: what the command prints and writes."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from analytics.models import SignalRun
from reviews.models import Review
from tests.analytics.signal_corpus import make_corpus

pytestmark = pytest.mark.django_db


def test_it_writes_the_report_in_the_documented_shape(tmp_path):
    labels = make_corpus()
    out = tmp_path / "signals.json"
    stdout = io.StringIO()
    with translation.override("en"):
        call_command("extract_signals", "--json", str(out), stdout=stdout)
    report = json.loads(out.read_text(encoding="utf-8"))

    run = SignalRun.objects.get(is_current=True)
    assert report["run"] == run.pk
    assert f"Run #{run.pk}" in stdout.getvalue()
    assert {"run", "signals", "unassigned_complaints"} <= set(report)
    for signal in report["signals"]:
        assert {"key", "name", "status", "keywords", "size", "share", "review_ids", "examples"} <= set(signal)
        assert signal["size"] == len(signal["review_ids"]) > 0
        assert all(isinstance(keyword, str) for keyword in signal["keywords"])
        assert 1 <= len(signal["examples"]) <= 5
        assert 0 < signal["share"] <= 1

    ids = [review_id for signal in report["signals"] for review_id in signal["review_ids"]]
    assert len(ids) == len(set(ids)), "a review appears in two signals"
    assert set(ids).isdisjoint(report["unassigned_complaints"])

    external = dict(Review.objects.values_list("pk", "external_id"))
    expected = {external[pk] or f"pk:{pk}" for pk, label in labels.items() if label != "praise"}
    assert set(ids) | set(report["unassigned_complaints"]) == expected
    assert any(review_id.startswith("pk:") for review_id in ids)
    assert any(not review_id.startswith("pk:") for review_id in ids)
    keys = {signal["key"] for signal in report["signals"]}
    assert {"no_production", "outdated_tooling", "weak_testing"} <= keys


def test_it_prints_the_report_to_stdout_with_a_dash():
    make_corpus(repeat=1)
    stdout = io.StringIO()
    call_command("extract_signals", "--json", "-", stdout=stdout)
    assert json.loads(stdout.getvalue())["run"] == SignalRun.objects.get(is_current=True).pk


def test_it_works_on_an_empty_database(tmp_path):
    out = tmp_path / "signals.json"
    call_command("extract_signals", "--json", str(out), stdout=io.StringIO())
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["signals"] == [] and report["unassigned_complaints"] == []


def test_it_refuses_while_a_worker_is_running_another_extraction():
    SignalRun.objects.create(
        status=SignalRun.Status.RUNNING,
        worker="elsewhere:1",
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    with translation.override("en"), pytest.raises(CommandError, match="in progress"):
        call_command("extract_signals", stdout=io.StringIO())


def test_it_counts_what_the_noise_gate_kept_out_and_never_quotes_it(tmp_path):
    from tests.factories import ImportedReviewFactory

    make_corpus(repeat=1)
    spam = ImportedReviewFactory(rating=1, text="超时没讲清楚，想要全套资料的加企鹅 二四九六七九一九九一")
    ImportedReviewFactory(rating=5, text="。。。。。。")
    praise = ImportedReviewFactory(rating=1, text="老师讲的很好，非常透彻，推荐")
    out = tmp_path / "signals.json"
    call_command("extract_signals", "--json", str(out), stdout=io.StringIO())
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["noise"] == {"contact": 1, "empty": 1}
    assert report["rating_mismatch"] >= 1  # the one-star praise
    listed = {review_id for signal in report["signals"] for review_id in signal["review_ids"]}
    listed |= set(report["unassigned_complaints"])
    assert spam.external_id not in listed and praise.external_id not in listed
    quoted = [example["text"] for signal in report["signals"] for example in signal["examples"]]
    assert all("企鹅" not in text for text in quoted)
