import json

from django.conf import settings
from django.db import migrations, models

SEEDS = settings.BASE_DIR / "analytics" / "data" / "seeds.json"


def backfill_shipped_hints(apps, schema_editor):
    """Shipped signals that already exist get the English "how to check" hint of their seed."""
    SignalDefinition = apps.get_model("analytics", "SignalDefinition")
    for seed in json.loads(SEEDS.read_text(encoding="utf-8")):
        SignalDefinition.objects.filter(key=seed["key"], check_hint_en="").update(
            check_hint_en=seed.get("check_hint_en", "")
        )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0006_signal_check_hint")]

    operations = [
        migrations.AddField(
            model_name="signaldefinition",
            name="check_hint_en",
            field=models.TextField(blank=True, verbose_name="how to check before buying (English)"),
        ),
        migrations.RunPython(backfill_shipped_hints, migrations.RunPython.noop),
    ]
