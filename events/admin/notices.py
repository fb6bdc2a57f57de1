"""What the organiser is told after changing a published event's time or meeting link: how
many people the notices will email (counted through change_notice_counters), and when."""

from datetime import datetime

from django.conf import settings
from django.utils.timesince import timeuntil
from django.utils.translation import gettext, ngettext

from events.admin.hooks import change_notice_counters


def _duration(delta):
    """'1 day, 2 hours', '30 minutes': a shift as a person says it."""
    now = datetime(2000, 1, 1)
    return timeuntil(now + delta, now, depth=2)


def _change_notice(event):
    """What the organiser is told after changing a published event's time or link."""
    minutes = settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES
    if not change_notice_counters:
        return gettext(
            "The time or meeting link changed: registrants will be told and their calendars "
            "updated."
        )
    count = sum(counter(event=event) for counter in change_notice_counters)
    if count == 0:
        return gettext("The time or meeting link changed: nobody needs to be emailed about it.")
    return ngettext(
        "The time or meeting link changed: %(count)d person will be emailed in about "
        "%(minutes)d minutes (after your last change).",
        "The time or meeting link changed: %(count)d people will be emailed in about "
        "%(minutes)d minutes (after your last change).",
        count,
    ) % {"count": count, "minutes": minutes}
