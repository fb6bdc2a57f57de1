from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistrationConfig(AppConfig):
    name = "registration"
    verbose_name = _("Registration")

    def ready(self) -> None:
        # The event page's status block asks our rule, through the hook events.cache provides.
        from events.cache import set_registration_rule
        from registration.availability import snapshot_annotations, snapshot_availability

        set_registration_rule(annotations=snapshot_annotations, availability=snapshot_availability)

        # The event's admin page shows our counts and charts, and its changelist offers the
        # CSV export, through the hooks events.admin provides (events must not import us).
        from events.admin import event_admin_inlines, event_admin_panels, register_event_action
        from events.exchange import extra_parts
        from registration.admin import export_event_registrations, registration_panel
        from registration.admin.questions import QuestionInline
        from registration.questions_exchange import (
            export_questions,
            parse_questions,
            save_questions,
        )

        if registration_panel not in event_admin_panels:
            event_admin_panels.append(registration_panel)
        register_event_action(export_event_registrations)
        # The event's own registration questions: edited inline, carried in its JSON file.
        if QuestionInline not in event_admin_inlines:
            event_admin_inlines.append(QuestionInline)
        extra_parts["questions"] = (parse_questions, save_questions, export_questions)
