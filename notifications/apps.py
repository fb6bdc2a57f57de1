from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from events.admin import change_notice_counters, event_admin_panels, register_event_action
        from notifications import handlers  # noqa: F401  (connects the signal receivers)
        from notifications.admin import (
            meeting_link_panel,
            resend_meeting_link,
            send_meeting_links_now,
        )
        from notifications.services import count_change_notice_recipients
        from registration.admin import register_registration_action

        # The event's admin page shows the meeting-link delivery panel, its changelist offers
        # "send meeting links now", the registration list "resend the meeting link".
        if meeting_link_panel not in event_admin_panels:
            event_admin_panels.append(meeting_link_panel)
        register_event_action(send_meeting_links_now)
        register_registration_action(resend_meeting_link)

        # The event page lists its messages (the built-in meeting link first).
        from notifications.message_admin import messages_panel

        if messages_panel not in event_admin_panels:
            event_admin_panels.append(messages_panel)

        # Organisers' messages travel in the event's JSON file.
        from events.exchange import extra_parts
        from notifications.messages_exchange import export_messages, parse_messages, save_messages

        extra_parts["messages"] = (parse_messages, save_messages, export_messages)

        # The organiser who changes a time or link is told how many people will be emailed.
        if count_change_notice_recipients not in change_notice_counters:
            change_notice_counters.append(count_change_notice_recipients)
