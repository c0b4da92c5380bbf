from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reviews.models import Instructor, Review


class ReviewTokens(models.Model):
    """Cached segmentation of one review; recomputed only when the text (hash) changes."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, primary_key=True, related_name="tokens")
    text_hash = models.CharField(max_length=64)
    tokens = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("review tokens")
        verbose_name_plural = _("review tokens")


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
    seed_terms = models.JSONField(_("seed terms"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SEEDED)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged", verbose_name=_("merged into")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("signal definition")
        verbose_name_plural = _("signal definitions")

    def __str__(self) -> str:
        return self.name_zh or self.key


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

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("signal run")
        verbose_name_plural = _("signal runs")
        constraints = [
            models.UniqueConstraint(fields=["is_current"], condition=Q(is_current=True), name="one_current_run"),
            models.UniqueConstraint(
                fields=["status"], condition=Q(status__in=["queued", "running"]), name="one_active_run"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.status}"


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

    class Meta:
        ordering = ["-size"]
        verbose_name = _("signal cluster")
        verbose_name_plural = _("signal clusters")

    def __str__(self) -> str:
        return self.label or (str(self.definition) if self.definition else f"cluster {self.pk}")


class ReviewSignal(models.Model):
    run = models.ForeignKey(SignalRun, on_delete=models.CASCADE, related_name="assignments")
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="signal_assignments")
    cluster = models.ForeignKey(SignalCluster, on_delete=models.CASCADE, related_name="assignments")
    score = models.FloatField(default=0.0)

    class Meta:
        verbose_name = _("review signal")
        verbose_name_plural = _("review signals")
        constraints = [models.UniqueConstraint(fields=["run", "review"], name="one_primary_signal_per_run")]


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

    class Meta:
        ordering = ["-fetched_at"]
        get_latest_by = "fetched_at"
        verbose_name = _("evidence snapshot")
        verbose_name_plural = _("evidence snapshots")


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

    class Meta:
        ordering = ["rank"]
        verbose_name = _("instructor score")
        verbose_name_plural = _("instructor scores")
