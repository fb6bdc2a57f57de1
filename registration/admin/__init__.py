"""The organisers' admin for registrations.

- hooks: the extension point for the apps above registration (register_registration_action)
- export: the CSV export (formula-safe cells, streamed)
- actions: approve, reject, promote, resend, cancel, export
- registrations: RegistrationAdmin, the registration list (registered here)
- panel: the registrations panel and charts on the event's admin page
- attendance: the participant report upload, and the panel's attendance rate and chart
- questions: the registration questions inline and the answers in the registration admin

Django's admin autodiscovery imports this package, which imports the module that registers.
"""

from registration.admin.actions import export_event_registrations
from registration.admin.export import csv_cell, csv_response
from registration.admin.hooks import _extra_actions, register_registration_action
from registration.admin.panel import registration_panel
from registration.admin.questions import QuestionInline
from registration.admin.registrations import RegistrationAdmin

__all__ = [
    "QuestionInline",
    "RegistrationAdmin",
    "_extra_actions",
    "csv_cell",
    "csv_response",
    "export_event_registrations",
    "register_registration_action",
    "registration_panel",
]
