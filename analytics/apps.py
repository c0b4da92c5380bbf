from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Signals, evidence and rankings")

    def ready(self) -> None:
        # Wiring that would otherwise be an import cycle (services ↔ outbox ↔ tasks) or make reviews import
        # analytics: the lower modules hold registries and this fills them in.
        from analytics import jobs, outbox, tasks
        from analytics.services import review_followup
        from reviews.signals import review_changed

        for name, enqueue_job in tasks.ENQUEUERS.items():
            jobs.register(name, enqueue_job)
        outbox.register_handler(outbox.REVIEW_SAVED, review_followup.review_followup_apply)
        review_changed.connect(review_followup.on_review_changed, dispatch_uid="analytics.review_followup")
