"""Comparing two to four instructors or courses side by side: the table, the radar, the picker, the errors."""

import pytest
from django.urls import reverse

from analytics.services.scores import scores_recompute
from tests.analytics.scoring_data import teach, two_scored
from tests.factories import CourseFactory, InstructorFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_ranking_cache")]


# --- Compare ------------------------------------------------------------------------------------------------


def test_it_compares_two_instructors_with_a_radar(client, django_assert_max_num_queries):
    two_scored()
    with django_assert_max_num_queries(3):
        response = client.get(reverse("compare"), {"instructors": "ada,bob"})
    assert response.status_code == 200
    radar = response.context["radar"]
    assert [series["name"] for series in radar["series"]][:2] == ["Ada", "Bob"]
    assert radar["series"][0]["values"][0] == 5.0
    assert radar["series"][-1]["baseline"] is True
    html = response.content.decode()
    assert 'id="compare-radar"' in html and "echarts-6.1.0.min.js" in html


def test_it_redirects_ticked_compare_checkboxes_to_the_short_address(client):
    two_scored()
    response = client.get(reverse("compare"), {"instructors": ["ada", "bob"]})
    assert response.status_code == 302
    assert response["Location"] == "/compare/?instructors=ada%2Cbob"


@pytest.mark.parametrize(
    ("slugs", "message"),
    [
        ("nobody", "No instructor with the slug: nobody"),
        ("ada,bob,c,d,e", "at most four instructors"),
        ("ada,nobody", "No instructor with the slug: nobody"),
    ],
)
def test_it_explains_what_is_wrong_with_a_comparison(client, slugs, message):
    two_scored()
    response = client.get(reverse("compare"), {"instructors": slugs}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_it_offers_the_picker_with_the_one_instructor_ticked(client):
    two_scored()
    response = client.get(reverse("compare"), {"instructors": "ada"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="ada" checked' in html
    assert "more instructors to compare with" in html


def test_it_offers_a_picker_when_nothing_is_selected_to_compare(client):
    two_scored()
    response = client.get(reverse("compare"))
    assert response.status_code == 200
    assert response.content.decode().count('name="instructors"') == 2


# --- Course comparison ------------------------------------------------------------------------------------


def two_courses():
    ada = InstructorFactory(slug="ada", name="Ada")
    good = teach(ada, [5] * 8, practice=5, testing=4)
    weak = teach(ada, [2] * 8, practice=2, testing=1)
    good.slug, weak.slug = "good", "weak"
    good.title, weak.title = "好课", "弱课"
    good.save()
    weak.save()
    scores_recompute()
    return good, weak


def test_compare_puts_two_to_four_courses_side_by_side(client):
    good, weak = two_courses()
    response = client.get(reverse("compare-courses"), {"courses": "good,weak"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "好课" in html and "弱课" in html and "compare-radar" in html
    rows = {row["label"]: row for row in response.context["rows"]}
    assert rows["Practice depth"]["cells"][0]["best"] is True  # the better course's dimension is marked
    assert rows["Failure-signal burden"]["kind"] == "percent_sign"


@pytest.mark.parametrize(
    ("courses", "message"),
    [("good,weak,a,b,c", "at most four courses"), ("good,nope", "No course with the slug: nope")],
)
def test_compare_courses_explains_what_is_wrong(client, courses, message):
    two_courses()
    response = client.get(reverse("compare-courses"), {"courses": courses}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and message in response.content.decode()


def test_compare_courses_from_one_course_offers_the_picker_with_it_ticked(client):
    two_courses()
    response = client.get(reverse("compare-courses"), {"courses": "good"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert 'name="courses" value="good" checked' in response.content.decode()


def test_it_ticks_an_instructor_without_a_score_first_in_the_picker(client):
    two_scored()
    InstructorFactory(slug="cy", name="Cy")
    response = client.get(reverse("compare"), {"instructors": "cy"}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="cy" checked' in html
    assert html.index('value="cy"') < html.index('value="ada"')
    assert "Not ranked yet" in html


def test_it_ticks_a_course_without_a_score_first_in_the_picker(client):
    two_courses()
    CourseFactory(slug="new", title="新课")
    response = client.get(reverse("compare-courses"), {"courses": "new"}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="courses" value="new" checked' in html
    assert html.index('value="new"') < html.index('value="good"')
    assert "Not ranked yet" in html
