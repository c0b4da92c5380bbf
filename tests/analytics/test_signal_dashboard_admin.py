"""Django admin for the analytics models: definitions are editable, pipeline output is read-only."""

from unittest import mock

import pytest
from django.urls import reverse

from analytics.models import SignalDefinition
from analytics.services import taxonomy
from tests.analytics import signal_data
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

MODELS = [
    "signaldefinition",
    "signalrun",
    "signalcluster",
    "reviewsignal",
    "reviewtokens",
    "signalassigner",
    "evidencesnapshot",
    "instructorscore",
    "coursescore",
]


@pytest.fixture
def admin_client(client):
    client.force_login(StaffUserFactory())
    return client


@pytest.fixture
def report():
    run = signal_data.run()
    toy = signal_data.definition("toy", status=SignalDefinition.Status.SEEDED, seed_terms=["hello world"])
    cluster = signal_data.cluster(run, toy, reviews=signal_data.reviews(2))
    return {"run": run, "toy": toy, "cluster": cluster}


def test_it_lists_every_analytics_model_in_the_admin(admin_client, report):
    for model in MODELS:
        response = admin_client.get(reverse(f"admin:analytics_{model}_changelist"))
        assert response.status_code == 200, model


def test_it_lets_staff_edit_a_signal_definition(admin_client, report):
    other = signal_data.definition("timeouts")
    url = reverse("admin:analytics_signaldefinition_change", args=[report["toy"].pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {
            "key": "toy",
            "name_zh": "玩具示例",
            "name_en": "Toy examples",
            "description": "Only Hello World.",
            "seed_terms": '["hello world", "chan int"]',
            "status": "confirmed",
            "merged_into": other.pk,
        },
    )
    assert response.status_code == 302
    toy = SignalDefinition.objects.get(pk=report["toy"].pk)
    assert (toy.name_en, toy.seed_terms, toy.status, toy.merged_into) == (
        "Toy examples",
        ["hello world", "chan int"],
        "confirmed",
        other,
    )


def test_it_shows_runs_read_only(admin_client, report):
    url = reverse("admin:analytics_signalrun_change", args=[report["run"].pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b'name="status"' not in response.content
    assert admin_client.post(url, {"status": "failed"}).status_code == 403
    assert admin_client.get(reverse("admin:analytics_signalrun_add")).status_code == 403


def test_it_confirms_and_dismisses_definitions_through_the_services(admin_client, report):
    changelist = reverse("admin:analytics_signaldefinition_changelist")
    with mock.patch.object(taxonomy, "signal_confirm", wraps=taxonomy.signal_confirm) as confirm:
        admin_client.post(changelist, {"action": "confirm_signals", "_selected_action": [report["toy"].pk]})
    confirm.assert_called_once()
    assert SignalDefinition.objects.get(pk=report["toy"].pk).status == "confirmed"
    with mock.patch.object(taxonomy, "signal_dismiss", wraps=taxonomy.signal_dismiss) as dismiss:
        admin_client.post(changelist, {"action": "dismiss_signals", "_selected_action": [report["toy"].pk]})
    dismiss.assert_called_once()
    assert SignalDefinition.objects.get(pk=report["toy"].pk).status == "dismissed"


def test_it_keeps_learners_out_of_the_analytics_admin(client, report):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("admin:analytics_signaldefinition_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
