from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='securityevent',
            name='detail',
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
