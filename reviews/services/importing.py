"""`import_feedback`: validate a JSON Lines file of learner feedback and store it in one transaction."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext

from reviews.models import (
    EARLIEST_REVIEW_DATE,
    Course,
    Instructor,
    Review,
    ReviewContext,
    ReviewRevision,
    dimension_field,
)
from reviews.validators import validate_dimensions, validate_review_context, validate_review_text

IMPORT_BATCH_SIZE = 2000


def _max_length(model: type[Review | Course | Instructor], name: str) -> int:
    length = getattr(model._meta.get_field(name), "max_length", None)
    assert isinstance(length, int), f"{model.__name__}.{name} has no max_length"
    return length


_EXTERNAL_ID_MAX = _max_length(Review, "external_id")
_COURSE_TITLE_MAX = _max_length(Course, "title")
_COURSE_SLUG_MAX = _max_length(Course, "slug")
_PROVIDER_MAX = _max_length(Course, "provider")
_INSTRUCTOR_NAME_MAX = _max_length(Instructor, "name")
_INSTRUCTOR_SLUG_MAX = _max_length(Instructor, "slug")


@dataclass
class ImportResult:
    """What `feedback_import` did (or, with dry_run, would do)."""

    created: int = 0
    skipped: int = 0
    courses_created: int = 0
    instructors_created: int = 0
    lines: int = 0
    dry_run: bool = False


@dataclass
class _RevisionLine:
    rating: int
    text: str
    dimensions: dict[str, int]
    created_at: datetime | None
    context: ReviewContext = field(default_factory=ReviewContext)


@dataclass
class _FeedbackLine:
    number: int
    external_id: str
    course: str
    instructor: str
    provider: str
    rating: int
    text: str
    dimensions: dict[str, int]
    created_at: datetime | None
    context: ReviewContext = field(default_factory=ReviewContext)
    status: str = Review.Status.PUBLISHED
    revisions: list[_RevisionLine] = field(default_factory=list)


class _Invalid(ValueError):
    """One reason a line is refused; `kind` groups the same reason across lines (whatever the value)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


IMPORT_ERRORS_LISTED = 20


@dataclass
class _LineErrors:
    """Every bad line is counted; the first IMPORT_ERRORS_LISTED are listed, then a one-line summary, so a
    file with thousands of the same mistake stays readable."""

    messages: list[str] = field(default_factory=list)
    lines: int = 0
    kinds: set[str] = field(default_factory=set)

    def add(self, number: int, reasons: list[_Invalid]) -> None:
        self.lines += 1
        self.kinds.update(reason.kind for reason in reasons)
        if self.lines <= IMPORT_ERRORS_LISTED:
            reason = "; ".join(str(reason) for reason in reasons)
            self.messages.append(
                gettext("line %(number)d: %(reason)s") % {"number": number, "reason": reason}
            )

    def report(self) -> list[str]:
        hidden = self.lines - len(self.messages)
        if hidden <= 0:
            return self.messages
        summary = ngettext(
            "… and %(count)d more line with errors (%(reasons)d distinct reasons)",
            "… and %(count)d more lines with errors (%(reasons)d distinct reasons)",
            hidden,
        ) % {"count": hidden, "reasons": len(self.kinds)}
        return [*self.messages, summary]


def _missing(key: str) -> _Invalid:
    return _Invalid(gettext("“%(key)s” is missing") % {"key": key}, f"{key}:missing")


def _name(record: dict, key: str, *, max_length: int, required: bool = True) -> str:
    if key not in record and required:
        raise _missing(key)
    value = record.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(gettext("“%(key)s” must be a non-empty string") % {"key": key}, f"{key}:type")
    value = value.strip()
    if "\x00" in value:
        raise _Invalid(gettext("“%(key)s” contains a NUL character") % {"key": key}, f"{key}:nul")
    if len(value) > max_length:
        raise _Invalid(
            gettext("“%(key)s” is longer than %(limit)d characters") % {"key": key, "limit": max_length},
            f"{key}:length",
        )
    return value


def _external_id(record: dict) -> str:
    value = record.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _name({"id": value} if "id" in record else {}, "id", max_length=_EXTERNAL_ID_MAX)


def _created_at(record: dict) -> datetime | None:
    """The line's date as an aware UTC datetime, or None when the export has none (the key is absent or
    null): an undated review stays undated rather than getting the import's date."""
    value = record.get("created_at")
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid(gettext("“created_at” must be an ISO 8601 date-time string"), "created_at:type")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _Invalid(
            gettext("“created_at” is not an ISO 8601 date-time: %(value)r") % {"value": value},
            "created_at:format",
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    if moment < EARLIEST_REVIEW_DATE:
        raise _Invalid(
            gettext("“created_at” is before 1970: %(value)s") % {"value": value}, "created_at:too_early"
        )
    if moment > timezone.now() + timedelta(days=1):
        raise _Invalid(
            gettext("“created_at” is in the future: %(value)s") % {"value": value}, "created_at:future"
        )
    return moment.astimezone(UTC)


def _joined_messages(error: ValidationError) -> str:
    return "; ".join(str(message).rstrip(".。") for message in error.messages)


def _rating(record: dict) -> int:
    if "rating" not in record:
        raise _missing("rating")
    rating = record["rating"]
    # Strict JSON integers only: a file is machine-written, so "3" or 3.0 is a bug upstream worth reporting.
    if isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5:
        return rating
    raise _Invalid(
        gettext("“rating” must be a whole number from 1 to 5 (got %(value)s)")
        % {"value": json.dumps(rating, ensure_ascii=False)},
        "rating:invalid",
    )


def _validated(key: str, validator, *, required: bool) -> Callable[[dict], object]:
    def parse(record: dict) -> object:
        if required and key not in record:
            raise _missing(key)
        try:
            return validator(record.get(key))
        except ValidationError as error:
            items = error.error_list if hasattr(error, "error_list") else sum(error.error_dict.values(), [])
            codes = sorted({str(item.code) for item in items})
            raise _Invalid(f"“{key}”: {_joined_messages(error)}", f"{key}:{'+'.join(codes)}") from None

    return parse


def _status(record: dict) -> str:
    value = record.get("status", Review.Status.PUBLISHED)
    if value not in Review.Status.values:
        raise _Invalid(
            gettext("“status” must be one of %(choices)s") % {"choices": ", ".join(Review.Status.values)},
            "status:invalid",
        )
    return value


IMPORT_REVISIONS_MAX = 100


def _revisions(record: dict) -> list[_RevisionLine]:
    """The review's earlier versions, oldest first, as `export_feedback` writes them (optional)."""
    value = record.get("revisions")
    if value is None:
        return []
    if (
        not isinstance(value, list)
        or len(value) > IMPORT_REVISIONS_MAX
        or not all(isinstance(item, dict) for item in value)
    ):
        raise _Invalid(
            gettext("“revisions” must be a list of at most %(limit)d objects")
            % {"limit": IMPORT_REVISIONS_MAX},
            "revisions:type",
        )
    revisions = []
    for position, item in enumerate(value, start=1):
        try:
            revisions.append(
                _RevisionLine(
                    rating=_rating(item),
                    text=_validated("text", validate_review_text, required=True)(item),  # type: ignore[arg-type]
                    dimensions=_validated("dimensions", validate_dimensions, required=False)(item),  # type: ignore[arg-type]
                    created_at=_created_at(item),
                    context=_validated("context", validate_review_context, required=False)(item),  # type: ignore[arg-type]
                )
            )
        except _Invalid as reason:
            message = gettext("revision %(position)d: %(reason)s") % {"position": position, "reason": reason}
            raise _Invalid(message, f"revisions:{reason.kind}") from None
    return revisions


_LINE_FIELDS: tuple[tuple[str, Callable[[dict], object]], ...] = (
    ("external_id", _external_id),
    ("course", lambda r: _name(r, "course", max_length=_COURSE_TITLE_MAX)),
    ("instructor", lambda r: _name(r, "instructor", max_length=_INSTRUCTOR_NAME_MAX)),
    ("provider", lambda r: _name(r, "provider", max_length=_PROVIDER_MAX, required=False)),
    ("created_at", _created_at),
    ("rating", _rating),
    ("text", _validated("text", validate_review_text, required=True)),
    ("dimensions", _validated("dimensions", validate_dimensions, required=False)),
    ("context", _validated("context", validate_review_context, required=False)),
    ("status", _status),
    ("revisions", _revisions),
)


def _parse_feedback_line(number: int, raw: bytes, errors: _LineErrors) -> _FeedbackLine | None:
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        errors.add(number, [_Invalid(gettext("not valid UTF-8"), "utf-8")])
        return None
    except json.JSONDecodeError as error:
        errors.add(number, [_Invalid(gettext("invalid JSON (%(error)s)") % {"error": error.msg}, "json")])
        return None
    except RecursionError:
        errors.add(number, [_Invalid(gettext("JSON nested too deeply"), "json:depth")])
        return None
    if not isinstance(record, dict):
        errors.add(number, [_Invalid(gettext("expected a JSON object"), "json:object")])
        return None
    reasons: list[_Invalid] = []
    values: dict[str, object] = {}
    for key, parse in _LINE_FIELDS:
        try:
            values[key] = parse(record)
        except _Invalid as reason:
            reasons.append(reason)
    if reasons:
        errors.add(number, reasons)
        return None
    return _FeedbackLine(number=number, **values)  # type: ignore[arg-type]


def _read_feedback_file(path: Path) -> tuple[list[_FeedbackLine], int]:
    """Parse and validate every line; raise ValidationError listing the bad lines (the first 20, then a
    count)."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(gettext("File not found: %(path)s") % {"path": path}) from None
    except IsADirectoryError:
        raise ValidationError(gettext("Not a file: %(path)s") % {"path": path}) from None
    except OSError as error:
        raise ValidationError(
            gettext("Cannot read %(path)s: %(error)s") % {"path": path, "error": error.strerror}
        ) from None
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    errors = _LineErrors()
    parsed: list[_FeedbackLine] = []
    first_line_of_id: dict[str, int] = {}
    line_count = 0
    for number, raw in enumerate(content.split(b"\n"), start=1):
        if not raw.strip():
            continue
        line_count += 1
        line = _parse_feedback_line(number, raw, errors)
        if line is None:
            continue
        if line.external_id in first_line_of_id:
            message = gettext("duplicate id “%(id)s” (first used on line %(first)d)") % {
                "id": line.external_id,
                "first": first_line_of_id[line.external_id],
            }
            errors.add(number, [_Invalid(message, "id:duplicate")])
            continue
        first_line_of_id[line.external_id] = number
        parsed.append(line)
    if errors.lines:
        raise ValidationError(errors.report())
    return parsed, line_count


def _unique_slug(base: str, taken: set[str], *, max_length: int, fallback: str) -> str:
    base = slugify(base, allow_unicode=True)[:max_length].strip("-") or fallback
    slug, counter = base, 2
    while slug in taken:
        suffix = f"-{counter}"
        slug = f"{base[: max_length - len(suffix)]}{suffix}"
        counter += 1
    taken.add(slug)
    return slug


def _existing_external_ids(ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), IMPORT_BATCH_SIZE):
        chunk = ids[start : start + IMPORT_BATCH_SIZE]
        found.update(Review.objects.filter(external_id__in=chunk).values_list("external_id", flat=True))
    return found


@dataclass
class _CatalogPlan:
    """Courses by title (or slug) and instructors by name, with the rows still to be created."""

    courses: dict[str, Course]
    instructors: dict[str, Instructor]
    new_courses: list[Course]
    new_instructors: list[Instructor]


def _plan_catalog(lines: list[_FeedbackLine]) -> _CatalogPlan:
    # A line names a course by title (or by slug, for catalogs loaded first); titles win over slugs and the
    # oldest row wins when names repeat, hence the reversed order.
    existing_courses = list(Course.objects.order_by("-pk"))
    courses = {course.slug: course for course in existing_courses}
    courses.update({course.title: course for course in existing_courses})
    existing_instructors = list(Instructor.objects.order_by("-pk"))
    instructors = {instructor.name: instructor for instructor in existing_instructors}

    course_slugs = {course.slug for course in existing_courses}
    instructor_slugs = {instructor.slug for instructor in existing_instructors}
    plan = _CatalogPlan(courses=courses, instructors=instructors, new_courses=[], new_instructors=[])
    for line in lines:
        if line.instructor not in instructors:
            slug = _unique_slug(
                line.instructor,
                instructor_slugs,
                max_length=_INSTRUCTOR_SLUG_MAX,
                fallback=f"instructor-{len(instructor_slugs) + 1}",
            )
            instructors[line.instructor] = Instructor(name=line.instructor, slug=slug)
            plan.new_instructors.append(instructors[line.instructor])
        if line.course not in courses:
            slug = _unique_slug(
                line.course,
                course_slugs,
                max_length=_COURSE_SLUG_MAX,
                fallback=f"course-{len(course_slugs) + 1}",
            )
            courses[line.course] = Course(title=line.course, slug=slug, provider=line.provider)
            plan.new_courses.append(courses[line.course])
    return plan


def _create_catalog(plan: _CatalogPlan, lines: list[_FeedbackLine]) -> None:
    """Save the planned courses and instructors and link every line's course to its instructor."""
    for instructor in plan.new_instructors:
        instructor.save()
    for course in plan.new_courses:
        course.save()
    wanted_links = {(plan.courses[line.course].pk, plan.instructors[line.instructor].pk) for line in lines}
    Link = Course.instructors.through
    existing_links = set(
        Link.objects.filter(course_id__in={course_id for course_id, _ in wanted_links}).values_list(
            "course_id", "instructor_id"
        )
    )
    Link.objects.bulk_create(
        [Link(course_id=c, instructor_id=i) for c, i in sorted(wanted_links - existing_links)],
        batch_size=IMPORT_BATCH_SIZE,
    )


def _create_revisions(lines: list[_FeedbackLine]) -> None:
    if not lines:
        return
    review_ids = dict(
        Review.objects.filter(external_id__in=[line.external_id for line in lines]).values_list(
            "external_id", "pk"
        )
    )
    revisions = [
        ReviewRevision(
            review_id=review_ids[line.external_id],
            rating=revision.rating,
            text=revision.text,
            dimensions=revision.dimensions,
            context=revision.context.as_json(),
        )
        for line in lines
        for revision in line.revisions
    ]
    ReviewRevision.objects.bulk_create(revisions, batch_size=IMPORT_BATCH_SIZE)
    # created_at is set on insert (auto_now_add); the export's dates are put back afterwards.
    dates = [revision.created_at for line in lines for revision in line.revisions]
    for revision, created_at in zip(revisions, dates, strict=True):
        revision.created_at = created_at  # type: ignore[assignment]  # imported revisions are dated
    ReviewRevision.objects.bulk_update(revisions, ["created_at"], batch_size=IMPORT_BATCH_SIZE)


def feedback_import(*, path: str | Path, dry_run: bool = False) -> ImportResult:
    """Import learner feedback from a JSON Lines file (`manage.py import_feedback`).

    Every line is validated first; if any is bad, ValidationError lists "line N: reason" (the first 20
    lines, then a count) and nothing is stored. Otherwise, in one transaction: missing instructors (by name)
    and courses (by title, or slug) are created and linked, and each line becomes an author-less Review with
    source=import, external_id=id, its date (none when the line has none), its status (published unless the
    line says otherwise), its optional reviewer context and its revisions, if any. Lines whose id is
    already stored are skipped, so re-importing a file changes nothing. Imports do not trigger per-review
    analytics: run a signal extraction afterwards.
    """
    lines, line_count = _read_feedback_file(Path(path))
    result = ImportResult(lines=line_count, dry_run=dry_run)
    present = _existing_external_ids([line.external_id for line in lines])
    fresh = [line for line in lines if line.external_id not in present]
    result.skipped = len(lines) - len(fresh)
    result.created = len(fresh)
    if not fresh:
        return result
    try:
        with transaction.atomic():
            plan = _plan_catalog(fresh)
            result.courses_created = len(plan.new_courses)
            result.instructors_created = len(plan.new_instructors)
            if dry_run:
                return result
            _create_catalog(plan, fresh)
            Review.objects.bulk_create(
                (
                    Review(
                        course=plan.courses[line.course],
                        author=None,
                        external_id=line.external_id,
                        rating=line.rating,
                        text=line.text,
                        status=line.status,
                        source=Review.Source.IMPORT,
                        created_at=line.created_at,
                        **{dimension_field(key): value for key, value in line.dimensions.items()},
                        **line.context.model_fields(),
                    )
                    for line in fresh
                ),
                batch_size=IMPORT_BATCH_SIZE,
            )
            _create_revisions([line for line in fresh if line.revisions])
    except IntegrityError:
        raise ValidationError(
            gettext(
                "Some of these ids were stored by another import running at the same time; nothing was "
                "imported from this file. Run the import again."
            )
        ) from None
    return result
