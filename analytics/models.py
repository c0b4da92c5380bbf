from typing import Any, Self

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from reviews.models import Course, Instructor, Review


class ReviewTokens(models.Model):
    """What a run keeps of one review so that the next run does not redo it: its clauses of content words
    with each clause's complaint decision (analytics.clauses.pack), or why the noise gate kept it out.

    The row is fresh while `text_hash` is the MD5 of the review's text (the database computes the same
    digest, so a run compares them in SQL and only fetches the texts it must segment again), `rating` the
    review's rating, and `pipeline` starts with the segmenter's fingerprint; the rest of `pipeline` names
    the complaint model that made the decisions, so a retrained model re-decides every review from the
    cached words without segmenting any again.
    `tokens` is one plain string: several times cheaper to write and read back than a JSON list, which
    matters when a run loads 100k of them. `complaint`: at least one clause is a complaint.

    The review link has no foreign-key constraint in the database: checking it at every commit took more
    than half of what writing a chunk's rows costs (19 ms of 2,000 rows against 8 ms without). Deleting a
    review through Django still deletes its row (on_delete); a row whose review went away meanwhile is
    derived data nothing reads, as every read starts from the reviews.
    """

    review = models.OneToOneField(
        Review, on_delete=models.CASCADE, primary_key=True, related_name="tokens", db_constraint=False
    )
    text_hash = models.CharField(max_length=64)
    pipeline = models.CharField(max_length=32, blank=True)
    rating = models.PositiveSmallIntegerField(null=True)
    tokens = models.TextField(blank=True)
    complaint = models.BooleanField(default=False)
    noise = models.CharField(max_length=16, blank=True)  # reviews.noise kind or "no_content"; "" for a review
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("review tokens")
        verbose_name_plural = _("review tokens")

    def __str__(self) -> str:
        return f"tokens of review {self.review_id}"


class SignalDefinition(models.Model):
    class Status(models.TextChoices):
        SEEDED = "seeded", _("Seeded")
        DISCOVERED = "discovered", _("Discovered")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    key = models.SlugField(_("key"), max_length=60, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    # What a student can check on a course's trailer, syllabus or repository before buying (public guide).
    check_hint = models.TextField(_("how to check before buying"), blank=True)
    check_hint_en = models.TextField(_("how to check before buying (English)"), blank=True)
    seed_terms = models.JSONField(_("seed terms"), default=list, blank=True)
    # Course tags (name or slug, any case) whose reviews the seeds may take; empty: every course.
    scope_tags = models.JSONField(_("scope (course tags)"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SEEDED)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged",
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("signal definition")
        verbose_name_plural = _("signal definitions")

    def __str__(self) -> str:
        return self.name_zh or self.key


class SignalRunQuerySet(models.QuerySet):
    def current(self) -> "SignalRunQuerySet":
        """The run whose results the site shows (the last succeeded one): at most one row."""
        return self.filter(is_current=True)

    def active(self) -> "SignalRunQuerySet":
        """The run queued or running, if any: at most one row."""
        return self.filter(status__in=ACTIVE_RUN_STATUSES)


class SignalRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    is_current = models.BooleanField(_("current"), default=False)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    step = models.CharField(_("step"), max_length=120, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    # "host:pid" of the worker executing the run: lets a new request see at once that it died.
    worker = models.CharField(_("worker"), max_length=200, blank=True)

    objects = SignalRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("signal run")
        verbose_name_plural = _("signal runs")
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_run"
            ),
            models.UniqueConstraint(
                fields=["status"], condition=Q(status__in=["queued", "running"]), name="one_active_run"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.status}"


# A run in one of these has not finished; at most one run has not (the one_active_run constraint).
ACTIVE_RUN_STATUSES = (SignalRun.Status.QUEUED, SignalRun.Status.RUNNING)


class SignalCluster(models.Model):
    run = models.ForeignKey(SignalRun, on_delete=models.CASCADE, related_name="clusters")
    definition = models.ForeignKey(
        SignalDefinition, on_delete=models.SET_NULL, null=True, blank=True, related_name="clusters"
    )
    label = models.CharField(max_length=120, blank=True)
    keywords = models.JSONField(default=list)  # [[term, weight], ...]
    size = models.PositiveIntegerField(default=0)
    share = models.FloatField(default=0.0)
    lift = models.FloatField(null=True, blank=True)
    representative_reviews = models.ManyToManyField(Review, blank=True, related_name="+")
    # review pk (as a string) → the complaint clause that put it here, for highlighting in quotes
    quote_clauses = models.JSONField(default=dict, blank=True)

    # Not stored: what analytics.reports sets on a cluster for the staff dashboard's templates.
    quote_reviews: list[Review]
    quotes: list[Review]
    name: str
    description: str
    chips: list[dict[str, Any]]
    status: str
    merged_into_name: str
    share_percent: float
    merge_choices: list[SignalDefinition]

    class Meta:
        ordering = ["-size"]
        verbose_name = _("signal cluster")
        verbose_name_plural = _("signal clusters")

    def __str__(self) -> str:
        return self.label or (str(self.definition) if self.definition else f"cluster {self.pk}")


class ReviewSignal(models.Model):
    """A review's primary signal in one run: a run's output, ~70k rows per 100k reviews.

    The foreign keys are not database constraints: checking three of them for every row at commit was
    a tenth of a re-run, and a review deleted while a run computed made the whole run fail at commit.
    Deletes still cascade (Django does it), a run's rows are written in the transaction that creates
    its clusters, and rows of reviews deleted during the run are dropped before it commits.
    """

    # Lookups by run use the unique (run, review) index: no index of its own to maintain on 100k inserts.
    run = models.ForeignKey(
        SignalRun, on_delete=models.CASCADE, related_name="assignments", db_constraint=False, db_index=False
    )
    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="signal_assignments", db_constraint=False
    )
    cluster = models.ForeignKey(
        SignalCluster, on_delete=models.CASCADE, related_name="assignments", db_constraint=False
    )
    score = models.FloatField(default=0.0)

    class Meta:
        verbose_name = _("review signal")
        verbose_name_plural = _("review signals")
        constraints = [models.UniqueConstraint(fields=["run", "review"], name="one_primary_signal_per_run")]

    def __str__(self) -> str:
        return f"run {self.run_id}: review {self.review_id} → cluster {self.cluster_id}"


class SignalAssigner(models.Model):
    """The compact model of one run that assigns a new review to its signals between runs.

    Kept apart from SignalRun so pages that list runs never load it.
    """

    run = models.OneToOneField(SignalRun, on_delete=models.CASCADE, primary_key=True, related_name="assigner")
    payload = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("signal assigner")
        verbose_name_plural = _("signal assigners")

    def __str__(self) -> str:
        return f"assigner of run {self.run_id}"


class EvidenceSnapshotQuerySet(models.QuerySet):
    def ok(self) -> "EvidenceSnapshotQuerySet":
        return self.filter(status=EvidenceSnapshot.Status.OK)

    def current(self) -> "EvidenceSnapshotQuerySet":
        """Each instructor's last good snapshot (one query; failed refreshes never replace it)."""
        latest = (
            EvidenceSnapshot.objects.ok()
            .filter(instructor=OuterRef("instructor"))
            .order_by("-fetched_at", "-pk")
            .values("pk")[:1]
        )
        return self.ok().filter(pk=Subquery(latest))

    def current_for(self, instructor) -> "EvidenceSnapshot | None":
        """One instructor's last good snapshot."""
        return self.ok().filter(instructor=instructor).order_by("-fetched_at", "-pk").first()


class EvidenceSnapshot(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("OK")
        FAILED = "failed", _("Failed")

    instructor = models.ForeignKey(Instructor, on_delete=models.CASCADE, related_name="evidence_snapshots")
    source = models.CharField(max_length=20, default="github")
    fetched_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OK)
    figures = models.JSONField(default=dict, blank=True)
    payload_summary = models.JSONField(default=dict, blank=True)
    etags = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # Last time GitHub confirmed these figures unchanged (ETag 304s): the figures stay, only this moves.
    checked_at = models.DateTimeField(null=True, blank=True)

    objects = EvidenceSnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-fetched_at"]
        get_latest_by = "fetched_at"
        verbose_name = _("evidence snapshot")
        verbose_name_plural = _("evidence snapshots")
        indexes = [models.Index(fields=["instructor", "status", "-fetched_at"], name="evidence_latest_idx")]

    def __str__(self) -> str:
        return f"{self.instructor} · {self.fetched_at:%Y-%m-%d %H:%M} · {self.status}"

    @property
    def last_refreshed(self):
        return max(filter(None, [self.fetched_at, self.checked_at]))


class ScoreQuerySet(models.QuerySet):
    """Shared by instructor and course scores: rows in ranking order, "not enough data" last."""

    # sort key → ordering after the enough-data rows come first
    SORTS: dict[str, list] = {
        "score": [F("total").desc(nulls_last=True)],
        "learner": [F("learner").desc(nulls_last=True)],
        "signals": [F("signal_burden").asc(nulls_last=True)],
        "reviews": ["-review_count"],
    }

    # Not `ordered`: that name is QuerySet's property saying whether an ordering is set.
    def sorted_by(self, sort: str, *, name_field: str) -> Self:
        ordering = self.SORTS.get(sort, self.SORTS["score"])
        return self.order_by("-enough_data", *ordering, F("rank").asc(nulls_last=True), name_field)


class InstructorScoreQuerySet(ScoreQuerySet):
    SORTS = {**ScoreQuerySet.SORTS, "evidence": [F("evidence").desc(nulls_last=True)]}

    def ranking(self, *, tag: str = "", provider: str = "", sort: str = "score") -> "InstructorScoreQuerySet":
        rows = self.select_related("instructor")
        if tag:
            rows = rows.filter(instructor__in=Course.objects.filter(tags__slug=tag).values("instructors"))
        if provider:
            rows = rows.filter(instructor__in=Course.objects.filter(provider=provider).values("instructors"))
        return rows.sorted_by(sort, name_field="instructor__name")


class CourseScoreQuerySet(ScoreQuerySet):
    def ranking(
        self, *, tag: str = "", provider: str = "", level: str = "", sort: str = "score"
    ) -> "CourseScoreQuerySet":
        rows = self.select_related("course")
        if tag:
            rows = rows.filter(course__in=Course.objects.filter(tags__slug=tag).values("pk"))
        if provider:
            rows = rows.filter(course__provider=provider)
        if level:
            rows = rows.filter(course__level=level)
        return rows.sorted_by(sort, name_field="course__title")


class InstructorScore(models.Model):
    instructor = models.ForeignKey(Instructor, on_delete=models.CASCADE, related_name="scores")
    computed_at = models.DateTimeField(db_index=True)
    learner = models.FloatField(null=True, blank=True)
    evidence = models.FloatField(null=True, blank=True)
    signal_burden = models.FloatField(null=True, blank=True)
    total = models.FloatField(null=True, blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)
    enough_data = models.BooleanField(default=True)
    breakdown = models.JSONField(default=dict, blank=True)
    review_count = models.PositiveIntegerField(default=0)

    objects = InstructorScoreQuerySet.as_manager()

    class Meta:
        ordering = ["rank"]
        verbose_name = _("instructor score")
        verbose_name_plural = _("instructor scores")

    def __str__(self) -> str:
        return f"{self.instructor} · #{self.rank or '-'}"


class CourseScore(models.Model):
    """A course's place in the course ranking: smoothed learner rating and failure-signal burden."""

    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="ranking_score")
    computed_at = models.DateTimeField(db_index=True)
    learner = models.FloatField(null=True, blank=True)
    signal_burden = models.FloatField(null=True, blank=True)
    total = models.FloatField(null=True, blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)
    enough_data = models.BooleanField(default=True)
    review_count = models.PositiveIntegerField(default=0)
    breakdown = models.JSONField(default=dict, blank=True)

    objects = CourseScoreQuerySet.as_manager()

    class Meta:
        ordering = ["rank"]
        verbose_name = _("course score")
        verbose_name_plural = _("course scores")

    def __str__(self) -> str:
        return f"{self.course} · #{self.rank or '-'}"


class InstructorEvidence(Instructor):
    """Instructors as the evidence admin sees them: GitHub login, last refresh, "refresh evidence"."""

    class Meta:
        proxy = True
        verbose_name = _("instructor GitHub evidence")
        verbose_name_plural = _("instructor GitHub evidence")


# --- Course repository check (代码仓库体检) ---


class RepoAudit(models.Model):
    """The static check of one course's companion repository (analytics/repo_audit.py).

    One row per course. `report`, `score`, `commit_sha` and `audited_at` are the last good result and are kept
    when a later attempt fails; `status`, `error` and `checked_at` describe the last attempt.
    """

    class Status(models.TextChoices):
        OK = "ok", _("OK")
        FAILED = "failed", _("Failed")

    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="repo_audit")
    source = models.CharField(_("source"), max_length=500)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OK)
    error = models.TextField(_("error"), blank=True)
    checked_at = models.DateTimeField(_("last attempt"))
    audited_at = models.DateTimeField(_("audited at"), null=True, blank=True)
    score = models.FloatField(_("score"), null=True, blank=True)
    report = models.JSONField(default=dict, blank=True)
    commit_sha = models.CharField(max_length=40, blank=True)
    etags = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("repository check")
        verbose_name_plural = _("repository checks")

    def __str__(self) -> str:
        return f"{self.course} · {self.status}"

    @property
    def has_result(self) -> bool:
        return bool(self.report)


class CourseRepository(Course):
    """Courses as the repository-check admin sees them: companion repository, last check, "run the check"."""

    class Meta:
        proxy = True
        verbose_name = _("course repository")
        verbose_name_plural = _("course repositories")


# --- Outbox (trust) --------------------------------------------------------------------------------------


class OutboxMessage(models.Model):
    """Follow-up work written in the same transaction as the change that needs it (transactional outbox).

    Sent to the broker after commit; while the broker is down the row stays unsent and the periodic drain (and
    every worker start) sends it once it is back. The consumer marks it processed in the transaction that
    applies it, so a message delivered twice takes effect once.
    """

    topic = models.CharField(max_length=60)
    # Rows with the same key and no sent_at are the same pending work (e.g. "review.saved:42").
    key = models.CharField(max_length=120, db_index=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    deliveries = models.PositiveIntegerField(default=0)  # times a consumer applied it (stays 1)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["created_at"], name="outbox_unprocessed_idx", condition=Q(processed_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({'processed' if self.processed_at else 'sent' if self.sent_at else 'unsent'})"


class LearnedModel(models.Model):
    """What a run learns from the corpus and keeps for the next runs: the complaint model (JSON) and the word
    vectors (a NumPy .npz archive, no pickles). `fingerprint` names what it was learned with (segmenter,
    labelled reviews, code version); `reviews` how many reviews it learned from, so a corpus that has
    grown enough gets a new one."""

    COMPLAINTS = "complaints"
    WORD_VECTORS = "word_vectors"

    kind = models.CharField(max_length=32, unique=True)
    fingerprint = models.CharField(max_length=64)
    reviews = models.PositiveIntegerField(default=0)
    payload = models.BinaryField()
    trained_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("learned model")
        verbose_name_plural = _("learned models")

    def __str__(self) -> str:
        return f"{self.kind} ({self.reviews} reviews)"


# --- Following courses and instructors ---------------------------------------------------------------------


class Follow(models.Model):
    """A learner follows one course or one instructor, to be told in the site when its score or its top
    failure signals change."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    instructor = models.ForeignKey(
        Instructor, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("follow")
        verbose_name_plural = _("follows")
        constraints = [
            models.CheckConstraint(
                condition=Q(course__isnull=False, instructor__isnull=True)
                | Q(course__isnull=True, instructor__isnull=False),
                name="follow_one_target",
            ),
            models.UniqueConstraint(
                fields=["user", "course"], condition=Q(course__isnull=False), name="follow_once_per_course"
            ),
            models.UniqueConstraint(
                fields=["user", "instructor"],
                condition=Q(instructor__isnull=False),
                name="follow_once_per_instructor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.course or self.instructor}"

    @property
    def target(self) -> Course | Instructor:
        target = self.course or self.instructor
        assert target is not None
        return target


class Notification(models.Model):
    """An in-site message to a follower: a followed course's or instructor's score or top failure signals
    changed. `change` keeps the figures (analytics.breakdown.FollowChange) so the text is written in the
    reader's language when shown."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    instructor = models.ForeignKey(
        Instructor, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    change = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread_idx")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.course or self.instructor}"

    @property
    def target(self) -> Course | Instructor:
        target = self.course or self.instructor
        assert target is not None
        return target
