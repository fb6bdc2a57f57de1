from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registration", "0005_verification_hold"),
    ]

    operations = [
        migrations.AddField(
            model_name="registration",
            name="attended",
            field=models.BooleanField(blank=True, null=True, verbose_name="attended"),
        ),
        migrations.AddField(
            model_name="registration",
            name="minutes_attended",
            field=models.PositiveIntegerField(
                blank=True, null=True, verbose_name="minutes present"
            ),
        ),
    ]
