"""The organisers' admin for events, agenda items, speakers, documents and teams.

- hooks: the extension points for the apps above events (panels, inlines, actions,
  change-notice counters)
- translations: the per-language fields of organiser text on admin forms
- times: times in the event's own zone, dates typed the admin user's way
- forms: the event form, the agenda items' form and inline
- uploads: documents, with uploads kept across a failed save
- actions: publish, unpublish, cancel
- notices: what the organiser is told after a published event's time or link changed
- event: EventAdmin (registered here)
- speakers: SpeakerAdmin (registered here)
- teams: teams, invitations and the audit log (registered here)

Django's admin autodiscovery imports this package, which imports the modules that register.
"""

from events.admin.actions import cancel_events, publish_events, unpublish_events
from events.admin.event import EventAdmin, UpcomingFilter
from events.admin.forms import AgendaItemForm, AgendaItemInline, EventAdminForm
from events.admin.hooks import (
    _extra_actions,
    change_notice_counters,
    event_admin_inlines,
    event_admin_panels,
    register_event_action,
)
from events.admin.speakers import SpeakerAdmin
from events.admin.teams import managed_teams
from events.admin.translations import (
    OTHER_LANGUAGES,
    TranslationsFormMixin,
    _translation_form_fields,
    translation_field_name,
    translation_fieldsets,
)
from events.admin.uploads import DocumentForm, DocumentInline

__all__ = [
    "OTHER_LANGUAGES",
    "AgendaItemForm",
    "AgendaItemInline",
    "DocumentForm",
    "DocumentInline",
    "EventAdmin",
    "EventAdminForm",
    "SpeakerAdmin",
    "TranslationsFormMixin",
    "UpcomingFilter",
    "_extra_actions",
    "_translation_form_fields",
    "cancel_events",
    "change_notice_counters",
    "event_admin_inlines",
    "event_admin_panels",
    "managed_teams",
    "publish_events",
    "register_event_action",
    "translation_field_name",
    "translation_fieldsets",
    "unpublish_events",
]
