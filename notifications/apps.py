from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from events.admin import change_notice_counters
        from notifications import handlers  # noqa: F401  (connects the signal receivers)
        from notifications.services import count_change_notice_recipients

        # The organiser who changes a time or link is told how many people will be emailed.
        if count_change_notice_recipients not in change_notice_counters:
            change_notice_counters.append(count_change_notice_recipients)
