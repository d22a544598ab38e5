from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_email_verified'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='password_reset_generation',
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
    ]
