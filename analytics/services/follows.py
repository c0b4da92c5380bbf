"""Following courses and instructors, and telling followers in the site when a followed item's score or its
top failure signals change. A signal run changes top signals through the score recompute it asks for, so
`scores_recompute` is the one place that compares and notifies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from analytics.breakdown import FollowChange, SignalName
from analytics.models import CourseScore, Follow, InstructorScore, Notification
from reviews.models import Course, Instructor

# One point of the 0–100 score shown: smaller moves are rounding and the slow drift of the recency weighting,
# not news a follower wants.
SCORE_CHANGE_MIN = 0.01


def _require_user(user) -> None:
    if user is None or not user.is_authenticated:
        raise PermissionDenied(gettext("Please log in first."))


def _target_fields(target: Course | Instructor) -> dict[str, Course | Instructor | None]:
    if isinstance(target, Course):
        return {"course": target, "instructor": None}
    if isinstance(target, Instructor):
        return {"instructor": target, "course": None}
    raise ValidationError(gettext("Only a course or an instructor can be followed."))


def follow(*, user, target: Course | Instructor) -> Follow:
    """Follow a course or an instructor (idempotent)."""
    _require_user(user)
    fields = _target_fields(target)
    try:
        with transaction.atomic():
            followed, _created = Follow.objects.get_or_create(
                user=user, course=fields["course"], instructor=fields["instructor"]
            )
    except IntegrityError:  # the same follow posted twice at once: the constraint kept one
        followed = Follow.objects.get(user=user, **fields)
    return followed


def unfollow(*, user, target: Course | Instructor) -> None:
    """Stop following a course or an instructor (idempotent)."""
    _require_user(user)
    Follow.objects.filter(user=user, **_target_fields(target)).delete()


def notifications_mark_read(*, user, notifications: Iterable[Notification] | None = None) -> int:
    """Mark the user's unread notifications read (only `notifications`, when given); returns how many."""
    _require_user(user)
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notifications is not None:
        unread = unread.filter(pk__in=[notification.pk for notification in notifications])
    return unread.update(read_at=timezone.now())


@dataclass(frozen=True)
class ScoreState:
    """What a follower is told about: the total (None when not scored) and the top failure signals.
    `enough_data` is False while the item has too few reviews to be ranked."""

    total: float | None
    signals: tuple[SignalName, ...]
    enough_data: bool = True

    @classmethod
    def of(cls, score: CourseScore | InstructorScore) -> ScoreState:
        top = (score.breakdown or {}).get("top_signals") or []
        return cls(
            total=score.total,
            enough_data=score.enough_data,
            signals=tuple(
                {"key": item["key"], "name_zh": item["name_zh"], "name_en": item["name_en"]} for item in top
            ),
        )

    def change_to(self, after: ScoreState) -> FollowChange | None:
        keys_before = {signal["key"] for signal in self.signals}
        keys_after = {signal["key"] for signal in after.signals}
        if not (self.enough_data or after.enough_data):
            # Shown as "not enough data" before and after: its total only follows the platform average.
            score_moved = False
        elif self.total is None or after.total is None:
            score_moved = (self.total is None) != (after.total is None)
        else:
            score_moved = abs(after.total - self.total) >= SCORE_CHANGE_MIN
        if not score_moved and keys_before == keys_after:
            return None
        return {
            "score_before": None if self.total is None else round(self.total, 4),
            "score_after": None if after.total is None else round(after.total, 4),
            "signals_added": [signal for signal in after.signals if signal["key"] not in keys_before],
            "signals_removed": [signal for signal in self.signals if signal["key"] not in keys_after],
        }


@dataclass(frozen=True)
class FollowedScores:
    """The scores of followed items as they stand before a recompute."""

    courses: Mapping[int, ScoreState]
    instructors: Mapping[int, ScoreState]


def followed_scores_before_recompute() -> FollowedScores:
    """Read (and lock, so two recomputes at once notify once) the current scores of every followed course and
    instructor. Two queries whatever the number of followers. Call inside the recompute's transaction."""
    courses = CourseScore.objects.select_for_update().filter(
        course_id__in=Follow.objects.filter(course__isnull=False).values("course_id")
    )
    instructors = InstructorScore.objects.select_for_update().filter(
        instructor_id__in=Follow.objects.filter(instructor__isnull=False).values("instructor_id")
    )
    return FollowedScores(
        courses={
            score.course_id: ScoreState.of(score)
            for score in courses.only("course_id", "total", "enough_data", "breakdown")
        },
        instructors={
            score.instructor_id: ScoreState.of(score)
            for score in instructors.only("instructor_id", "total", "enough_data", "breakdown")
        },
    )


def notify_followers_of_changes(
    *,
    before: FollowedScores,
    course_scores: Iterable[CourseScore],
    instructor_scores: Iterable[InstructorScore],
) -> int:
    """Create one notification per follower of each followed item whose score moved by at least
    SCORE_CHANGE_MIN or whose set of top failure signals changed; returns how many. An item without a
    previous score (new, or never followed before this recompute) is not compared. Two queries and one bulk
    insert whatever the number of followers."""
    course_changes = {
        score.course_id: change
        for score in course_scores
        if score.course_id in before.courses
        and (change := before.courses[score.course_id].change_to(ScoreState.of(score)))
    }
    instructor_changes = {
        score.instructor_id: change
        for score in instructor_scores
        if score.instructor_id in before.instructors
        and (change := before.instructors[score.instructor_id].change_to(ScoreState.of(score)))
    }
    notifications = [
        Notification(user_id=user_id, course_id=course_id, change=course_changes[course_id])
        for user_id, course_id in Follow.objects.filter(course_id__in=list(course_changes)).values_list(
            "user_id", "course_id"
        )
    ]
    notifications += [
        Notification(user_id=user_id, instructor_id=instructor_id, change=instructor_changes[instructor_id])
        for user_id, instructor_id in Follow.objects.filter(
            instructor_id__in=list(instructor_changes)
        ).values_list("user_id", "instructor_id")
    ]
    Notification.objects.bulk_create(notifications, batch_size=1000)
    return len(notifications)
