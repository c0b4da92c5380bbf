from django.db import migrations, models


def clear_token_cache(apps, schema_editor):
    # The cache is rebuilt by the next signal run: re-segmenting is about as fast as converting the rows.
    apps.get_model("analytics", "ReviewTokens").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_outboxmessage"),
    ]

    operations = [
        migrations.RunPython(clear_token_cache, migrations.RunPython.noop),
        migrations.RemoveField(model_name="reviewtokens", name="tokens"),
        migrations.AddField(
            model_name="reviewtokens",
            name="words",
            field=models.TextField(blank=True, default=""),
            preserve_default=False,
        ),
    ]
