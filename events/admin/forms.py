"""The event form and the agenda items' form and inline."""

import difflib
import zoneinfo
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import widgets
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.models import ModelFormMetaclass
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events import access, rules
from events.admin.times import (
    EVENT_DATETIME_FIELDS,
    SAME_CLOCK,
    SAME_INSTANT,
    ZoneInput,
    _date_help,
    _zone_help,
    accept_date_formats,
)
from events.admin.translations import (
    TranslationsFormMixin,
    _translation_form_fields,
    translation_fieldsets,
)
from events.languages import UN_LANGUAGES
from events.models import AgendaItem, Event
from events.zones import canonical_zone, zone_names

# Made by the metaclass, as a class statement would, because the translation fields differ per
# model; `Any` for the type checker, which cannot see fields added at run time.
EventFormBase: Any = ModelFormMetaclass(
    "EventFormBase", (TranslationsFormMixin, forms.ModelForm), _translation_form_fields(Event)
)


def _agenda_inside(event):
    """True when every agenda item of the saved event lies within its start and end."""
    outside = Q(starts_at__lt=event.starts_at) | Q(starts_at__gte=event.ends_at)
    return not event.agenda_items.filter(outside | Q(ends_at__gt=event.ends_at)).exists()


class EventAdminForm(EventFormBase):
    """The event form. Its clean() leaves `agenda_shift` (a timedelta of wall-clock time) on
    the instance when the organiser moves the event with "Move the agenda with the event"
    ticked; the agenda item forms, validated after it, move their items by it."""

    # Six checkboxes instead of the model's raw JSON list.
    interpretation_languages = forms.MultipleChoiceField(
        label=_("interpretation languages"),
        choices=UN_LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    # Shown (and required) only when a saved event's zone changes: see get_fieldsets().
    zone_change = forms.ChoiceField(
        label=_("What the new time zone means"),
        required=False,
        widget=forms.RadioSelect,
        choices=[(SAME_INSTANT, _("Same moment")), (SAME_CLOCK, _("Same clock time"))],
    )
    move_agenda = forms.BooleanField(
        label=_("Move the agenda with the event"),
        required=False,
        help_text=_("When the start changes, every agenda item moves by the same amount."),
    )
    date_formats = None  # set per request by EventAdmin.get_form()

    class Meta:
        model = Event
        exclude = ["translations"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "timezone" in self.fields:
            self.fields["timezone"].widget = ZoneInput()
            self.fields["timezone"].help_text = _(
                "Type to search, e.g. Zurich for Geneva, or +02 for the offset."
            )
        if "status" in self.fields and self.instance.status != Event.Status.CANCELLED:
            # Cancelling emails every registrant: it goes through the "Cancel this event"
            # button or action, which ask first, never through a select saved in passing.
            self.fields["status"].choices = [
                choice
                for choice in self.fields["status"].choices
                if choice[0] != Event.Status.CANCELLED
            ]
        zone = timezone.get_current_timezone_name()
        for name in EVENT_DATETIME_FIELDS:
            if name in self.fields:
                parts = [
                    _date_help(self.date_formats),
                    _zone_help(zone),
                    self.fields[name].help_text,
                ]
                self.fields[name].help_text = format_html_join(
                    " ", "{}", ((part,) for part in parts if part)
                )
        accept_date_formats(self, self.date_formats)
        if self.instance.pk and not self.is_bound:
            self.fields["move_agenda"].initial = _agenda_inside(self.instance)

    def clean_timezone(self):
        """The zone as typed, or its IANA spelling ("europe/zurich"); else close names."""
        name = (self.cleaned_data.get("timezone") or "").strip()
        if canonical_zone(name):
            return canonical_zone(name)
        close = difflib.get_close_matches(name, sorted(zone_names()), n=3, cutoff=0.6)
        message = gettext("%(value)s is not a known IANA time zone (e.g. America/New_York).") % {
            "value": name
        }
        if close:
            message += " " + gettext("Did you mean %(zones)s?") % {"zones": ", ".join(close)}
        raise ValidationError(message)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            # self.instance still holds the stored values here (the form's go in afterwards).
            self._ask_about_zone_change(cleaned)
            self._shift_agenda(cleaned)
        return cleaned

    def _ask_about_zone_change(self, cleaned):
        old, new = self.instance.timezone, cleaned.get("timezone")
        if not new or new == old:
            return
        starts_at = cleaned.get("starts_at")
        if starts_at is not None:
            typed = timezone.make_naive(starts_at)
            old_tz, new_tz = zoneinfo.ZoneInfo(old), zoneinfo.ZoneInfo(new)
            moment = timezone.make_aware(typed, old_tz)
            clock = timezone.make_aware(typed, new_tz)
            self.fields["zone_change"].choices = [
                (
                    SAME_INSTANT,
                    gettext(
                        "Same moment: it stays at %(old)s in %(old_zone)s, which is %(new)s in "
                        "%(zone)s."
                    )
                    % {
                        "old": rules.format_moment(moment, old_tz),
                        "old_zone": old,
                        "new": rules.format_moment(moment, new_tz),
                        "zone": new,
                    },
                ),
                (
                    SAME_CLOCK,
                    gettext(
                        "Same clock time: it moves to %(new)s in %(zone)s, which is %(old)s in "
                        "%(old_zone)s."
                    )
                    % {
                        "new": rules.format_moment(clock, new_tz),
                        "zone": new,
                        "old": rules.format_moment(clock, old_tz),
                        "old_zone": old,
                    },
                ),
            ]
        if not cleaned.get("zone_change"):
            self.add_error(
                "zone_change",
                gettext(
                    "You changed the time zone from %(old)s to %(new)s. Should the event keep "
                    "its moment or its clock time? Each choice shows where it would be."
                )
                % {"old": old, "new": new},
            )

    def _shift_agenda(self, cleaned):
        starts_at = cleaned.get("starts_at")
        if starts_at is None or not cleaned.get("move_agenda"):
            return
        stored = timezone.make_naive(self.instance.starts_at, self.instance.tz)
        shift = timezone.make_naive(starts_at) - stored
        if shift:
            self.instance.agenda_shift = shift


AgendaFormBase: Any = ModelFormMetaclass(
    "AgendaFormBase", (TranslationsFormMixin, forms.ModelForm), _translation_form_fields(AgendaItem)
)


class AgendaItemForm(AgendaFormBase):
    """An agenda item's date once (blank: the event's) and its times, in the event's zone."""

    date = forms.DateField(
        label=capfirst(_("date")),
        required=False,
        widget=widgets.AdminDateWidget,
        help_text=_("Blank: the event's date."),
    )
    start_time = forms.TimeField(label=capfirst(_("starts at")), widget=widgets.AdminTimeWidget)
    end_time = forms.TimeField(
        label=capfirst(_("ends at")), required=False, widget=widgets.AdminTimeWidget
    )
    # The model's errors about its times belong to these fields here.
    FIELD_FOR_MODEL_ERROR = {"starts_at": "start_time", "ends_at": "end_time"}

    class Meta:
        model = AgendaItem
        exclude = ["translations", "starts_at", "ends_at"]

    def __init__(self, *args, event=None, date_formats=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        self.moved = False
        item = self.instance
        if item.pk:
            local = timezone.localtime(item.starts_at)
            self.initial.update({"date": local.date(), "start_time": local.time()})
            if item.ends_at:
                self.initial["end_time"] = timezone.localtime(item.ends_at).time()
        elif event is not None and event.pk:
            self.initial["date"] = timezone.localtime(event.starts_at).date()
        zone = timezone.get_current_timezone_name()
        self.fields["date"].help_text = " ".join(
            filter(None, [_date_help(date_formats), str(self.fields["date"].help_text)])
        )
        self.fields["start_time"].help_text = _zone_help(zone)
        accept_date_formats(self, date_formats)

    def clean(self):
        cleaned = super().clean()
        start_time, end_time = cleaned.get("start_time"), cleaned.get("end_time")
        day = cleaned.get("date")
        if day is None and self.event is not None and self.event.starts_at is not None:
            day = timezone.localtime(self.event.starts_at).date()
        if day is None or start_time is None:
            return cleaned
        starts_at = datetime.combine(day, start_time)
        ends_at = datetime.combine(day, end_time) if end_time else None
        shift = getattr(self.event, "agenda_shift", None)
        typed_anew = {"date", "start_time", "end_time"} & set(self.changed_data)
        if shift and self.instance.pk and not typed_anew:
            starts_at += shift
            ends_at = ends_at + shift if ends_at else None
            self.moved = True
        self.instance.starts_at = timezone.make_aware(starts_at)
        self.instance.ends_at = timezone.make_aware(ends_at) if ends_at else None
        return cleaned

    def has_changed(self):
        # A moved item is saved although nothing was typed into it.
        return self.moved or super().has_changed()

    def _update_errors(self, errors):
        if hasattr(errors, "error_dict"):
            errors = ValidationError(
                {self.FIELD_FOR_MODEL_ERROR.get(f, f): e for f, e in errors.error_dict.items()}
            )
        super()._update_errors(errors)


class AgendaItemInline(access.EventScopedInline, admin.StackedInline):
    model = AgendaItem
    form = AgendaItemForm
    extra = 0
    autocomplete_fields = ["speakers"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("date", "start_time", "end_time"),
                    "title",
                    "description",
                    "speakers",
                    "position",
                ]
            },
        ),
        *translation_fieldsets(AgendaItem, per_language=False),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("speakers")
