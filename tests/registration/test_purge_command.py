from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from registration.models import Registration
from registration.tasks import purge_personal_data


def make_past_registrations(make_event, days_ago, count=2):
    event = make_event(starts_at=timezone.now() - timedelta(days=days_ago))
    for n in range(count):
        Registration.objects.create(
            event=event,
            email=f"p{days_ago}-{n}@example.org",
            name=f"Person {n}",
            consent_at=timezone.now(),
        )
    return event


def test_command_uses_the_retention_setting_and_reports(make_event, settings, capsys):
    settings.PERSONAL_DATA_RETENTION_DAYS = 30
    old = make_past_registrations(make_event, 40)
    recent = make_past_registrations(make_event, 20)

    call_command("purge_personal_data")

    assert "Anonymised 2 registration(s)" in capsys.readouterr().out
    assert set(Registration.objects.filter(event=old).values_list("name", flat=True)) == {""}
    assert Registration.objects.filter(event=recent, name="").count() == 0

    call_command("purge_personal_data", days=10)
    assert "Anonymised 2 registration(s)" in capsys.readouterr().out
    call_command("purge_personal_data", days=10)
    assert "Anonymised 0 registration(s)" in capsys.readouterr().out
    assert Registration.objects.count() == 4


def test_daily_task_purges(make_event, settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = 90
    make_past_registrations(make_event, 100, count=3)
    assert purge_personal_data.delay().get() == 3
    assert "registration-purge-personal-data" in settings.CELERY_BEAT_SCHEDULE
