from django.db import migrations, models


def null_modules_to_empty_list(apps, schema_editor):
    """Rows written while the column allowed NULL get [] before the NOT NULL constraint."""
    Tenant = apps.get_model("tenants", "Tenant")
    # isnull=True matches SQL NULL; `=None` matches a stored JSON null. Both mean "none".
    Tenant.objects.filter(
        models.Q(enabled_modules__isnull=True) | models.Q(enabled_modules=None)
    ).update(enabled_modules=[])


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]

    operations = [
        migrations.RunPython(null_modules_to_empty_list, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="tenant",
            name="enabled_modules",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
