"""Django admin for the catalog and learner feedback. Moderation goes through reviews.services."""

from typing import ClassVar

from django.contrib import admin, messages
from django.db import models
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reviews import services
from reviews.forms import LockoutAwareAdminAuthenticationForm
from reviews.models import (
    DIMENSION_KEYS,
    Course,
    Instructor,
    Review,
    ReviewReport,
    ReviewRevision,
    ReviewVote,
    Tag,
    dimension_field,
)

# The admin log-in says when an account is locked out after failed attempts.
admin.site.login_form = LockoutAwareAdminAuthenticationForm


class ReadOnlyAdminMixin:
    """Rows written only by the application (history, votes): staff can look, not forge."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Instructor)
class InstructorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "github_login", "course_count", "created_at"]
    search_fields = ["name", "slug", "github_login"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(num_courses=Count("courses", distinct=True))

    @admin.display(description=_("number of courses"), ordering="num_courses")
    def course_count(self, instructor):
        return instructor.num_courses


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "provider", "level", "review_count", "created_at"]
    list_filter = ["provider", "level", "tags"]
    search_fields = ["title", "slug", "provider", "instructors__name"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["instructors", "tags"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(num_reviews=Count("reviews", distinct=True))

    @admin.display(description=_("number of reviews"), ordering="num_reviews")
    def review_count(self, course):
        return course.num_reviews


class ReviewRevisionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReviewRevision
    extra = 0
    can_delete = False
    fields = ("created_at", "edited_by", "rating", "dimensions", "text")
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]


@admin.action(description=_("Publish selected reviews"))
def publish_reviews(modeladmin, request, queryset):
    _moderate(modeladmin, request, queryset, Review.Status.PUBLISHED)


@admin.action(description=_("Hide selected reviews"))
def hide_reviews(modeladmin, request, queryset):
    _moderate(modeladmin, request, queryset, Review.Status.HIDDEN)


def _moderate(modeladmin, request, reviews, status: str) -> None:
    changed = services.review_moderate(reviews=reviews, status=status, moderator=request.user)
    label = Review.Status(status).label
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d review set to “%(status)s”.",
            "%(count)d reviews set to “%(status)s”.",
            changed,
        )
        % {"count": changed, "status": label},
        messages.SUCCESS,
    )


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Learner words are evidence: staff moderate (status) but do not rewrite them."""

    list_display = [
        "id",
        "short_text",
        "course",
        "author",
        "rating",
        "status",
        "source",
        "helpful_count",
        "created_at",
    ]
    list_display_links = ["id", "short_text"]
    list_filter = ["status", "source", "rating", "course__provider", "created_at"]
    search_fields = ["text", "external_id", "course__title", "author__username"]
    date_hierarchy = "created_at"
    list_select_related = ["course", "author"]
    actions = [publish_reviews, hide_reviews]
    inlines = [ReviewRevisionInline]
    fields: ClassVar[tuple[str, ...]] = (
        "course",
        "author",
        "status",
        "rating",
        *[dimension_field(key) for key in DIMENSION_KEYS],
        "text",
        "source",
        "external_id",
        "helpful_count",
        "created_at",
        "updated_at",
    )
    readonly_fields = [name for name in fields if name != "status"]

    def has_add_permission(self, request):
        return False  # reviews come from learners (site, API) and from import_feedback

    @admin.display(description=_("review text"))
    def short_text(self, review):
        return Truncator(review.text).chars(60)

    def save_model(self, request, obj, form, change):
        if change and "status" in form.changed_data:
            services.review_moderate(reviews=[obj], status=obj.status, moderator=request.user)


@admin.register(ReviewRevision)
class ReviewRevisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["review", "edited_by", "rating", "created_at"]
    list_select_related = ["review__course", "edited_by"]
    search_fields = ["text", "review__id", "edited_by__username"]
    readonly_fields = ["review", "edited_by", "rating", "dimensions", "text", "created_at"]


@admin.register(ReviewVote)
class ReviewVoteAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["review", "user", "created_at"]
    list_select_related = ["review__course", "user"]
    search_fields = ["user__username", "review__id"]
    readonly_fields = ["review", "user", "created_at"]


@admin.action(description=_("Hide the reported reviews"))
def hide_reported_reviews(modeladmin, request, queryset):
    _moderate(
        modeladmin, request, Review.objects.filter(reports__in=queryset).distinct(), Review.Status.HIDDEN
    )


@admin.action(description=_("Keep the reported reviews published (dismiss the reports)"))
def keep_reported_reviews(modeladmin, request, queryset):
    reviews = Review.objects.filter(reports__in=queryset).distinct()
    _moderate(modeladmin, request, reviews, Review.Status.PUBLISHED)


@admin.register(ReviewReport)
class ReviewReportAdmin(admin.ModelAdmin):
    list_display = ["id", "review_link", "reason", "reporter", "resolved", "created_at"]
    list_filter = ["resolved", "reason", "created_at"]
    search_fields = ["detail", "review__text", "reporter__username"]
    list_select_related = ["review", "reporter"]
    actions = [hide_reported_reviews, keep_reported_reviews]
    readonly_fields = ["review", "reporter", "reason", "detail", "resolved", "created_at"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("review text"))
    def review_link(self, report):
        url = reverse("admin:reviews_review_change", args=[report.review_id])
        return format_html(
            '<a href="{}">#{} {}</a>', url, report.review_id, Truncator(report.review.text).chars(40)
        )
