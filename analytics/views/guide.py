"""The public failure-signal guide (避雷手册), for every course or one tag's."""

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from analytics import guide as guide_reports
from reviews.models import Tag

GUIDE_TAGS_SHOWN = 12


@require_GET
def guide(request: HttpRequest, tag: str = "") -> HttpResponse:
    """All courses (`/guide/`) or one tag's courses (`/guide/go/`), from the current run and scores."""
    chosen = get_object_or_404(Tag, slug=tag) if tag else None
    return render(
        request,
        "analytics/guide.html",
        {
            "guide": guide_reports.cached_guide(tag=chosen),
            "tags": Tag.objects.annotate(courses_count=Count("courses"))
            .filter(courses_count__gt=0)
            # The topics with the most courses; the rest are one URL away (/guide/<tag>/).
            .order_by("-courses_count", "name")[:GUIDE_TAGS_SHOWN],
            "nav_section": "guide",
        },
    )
