import json

from django.conf import settings
from django.db import migrations, models

SEEDS = settings.BASE_DIR / "analytics" / "data" / "seeds.json"


def backfill_shipped_descriptions(apps, schema_editor):
    """Shipped signals that already exist get the English description of their seed (nothing else changes)."""
    SignalDefinition = apps.get_model("analytics", "SignalDefinition")
    for seed in json.loads(SEEDS.read_text(encoding="utf-8")):
        SignalDefinition.objects.filter(key=seed["key"], description_en="").update(
            description_en=seed.get("description_en", "")
        )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_course_repository_audit")]

    operations = [
        migrations.AddField(
            model_name="signaldefinition",
            name="description_en",
            field=models.TextField(blank=True, verbose_name="description (English)"),
        ),
        migrations.RunPython(backfill_shipped_descriptions, migrations.RunPython.noop),
    ]
