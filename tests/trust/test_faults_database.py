"""PostgreSQL restarted while the site serves: requests fail cleanly (503, a friendly page, nothing
half-written) and succeed again once it is back, without restarting the site.

The test runs its own PostgreSQL cluster on port 5440 (initdb into a temporary folder) and its own gunicorn.
"""

from __future__ import annotations

import base64
import subprocess
import sys

import httpx
import psycopg
import pytest
from django.conf import settings

from tests.trust.processes import Gunicorn, PostgresCluster, base_env

pytestmark = pytest.mark.slow

PG_PORT = 5440
WEB_PORT = 8107
SEED = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)
from django.contrib.auth import get_user_model
from reviews.models import Course
get_user_model().objects.create_user("survivor", password="a-long-unusual-pass-77")
for slug in ("before-outage", "during-outage", "after-outage"):
    Course.objects.create(title=slug, slug=slug)
"""
ENGLISH = {"Accept-Language": "en"}
AUTH = {"Authorization": "Basic " + base64.b64encode(b"survivor:a-long-unusual-pass-77").decode()}


@pytest.fixture
def cluster():
    pg = PostgresCluster(PG_PORT)
    yield pg
    pg.destroy()


def review(web: Gunicorn, slug: str) -> httpx.Response:
    body = {"course": slug, "rating": 4, "text": f"{slug}: 讲得扎实"}
    return httpx.post(f"{web.url}/api/reviews/", json=body, headers=AUTH, timeout=30)


def test_it_fails_cleanly_while_postgresql_is_down_and_recovers_by_itself(cluster, tmp_path):
    env = base_env(tmp_path, DATABASE_URL=cluster.url, STATIC_ROOT=str(tmp_path / "static"), DEBUG="0")
    env.pop("REDIS_URL", None)
    seeded = subprocess.run(
        [sys.executable, "-c", SEED],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    web = Gunicorn(WEB_PORT, env=env, log=tmp_path / "web.log")
    try:
        assert review(web, "before-outage").status_code == 201

        cluster.stop()
        page = httpx.get(f"{web.url}/courses/before-outage/", headers=ENGLISH, timeout=30)
        api = httpx.get(f"{web.url}/api/courses/", headers=ENGLISH, timeout=30)
        write = review(web, "during-outage")

        assert page.status_code == 503 and page.headers["Retry-After"]
        assert "briefly unavailable" in page.text and "Traceback" not in page.text
        assert api.status_code == 503 and "temporarily unavailable" in api.json()["detail"]
        assert write.status_code == 503

        cluster.start()
        assert httpx.get(f"{web.url}/courses/before-outage/", timeout=30).status_code == 200
        assert review(web, "after-outage").status_code == 201
    finally:
        web.stop()
        log = (tmp_path / "web.log").read_text(errors="replace")
    assert "database unavailable while serving" in log  # the outage is logged for the operators

    with psycopg.connect(cluster.url.replace("postgres://", "postgresql://")) as db:
        rows = db.execute(
            "SELECT c.slug, (SELECT count(*) FROM reviews_reviewrevision v WHERE v.review_id = r.id), "
            "(SELECT count(*) FROM analytics_outboxmessage o WHERE o.key = 'review.saved:' || r.id) "
            "FROM reviews_review r JOIN reviews_course c ON c.id = r.course_id ORDER BY c.slug"
        ).fetchall()
    # The two accepted reviews, each whole (its revision and its follow-up); nothing from the outage.
    assert rows == [("after-outage", 1, 1), ("before-outage", 1, 1)]
