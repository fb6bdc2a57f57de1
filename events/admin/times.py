"""Times and dates on the event form.

Times: every date and time on the event form, agenda items included, is typed and shown in
the event's own time zone (the form says which), whatever the organiser's or the server's
zone. A zone changed in the same submission applies to the times of that submission.

Dates are typed the admin user's way (their locale's formats, with examples on the form)."""

from datetime import date

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.formats import get_format
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import check_for_language, gettext
from django.utils.translation.trans_real import parse_accept_lang_header

from events.models import Event
from events.zones import canonical_zone, offered_zones

# --- Times in the event's own zone ----------------------------------------------------------
EVENT_DATETIME_FIELDS = [
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "meeting_link_send_at",
]

# What a saved event's new time zone means for the times on the form (asked when it changes).
SAME_INSTANT = "instant"
SAME_CLOCK = "clock"


def _submitted_zone(request, obj):
    """The zone name a POST sets when it is a known one and differs from the stored one."""
    if obj is None or request.method != "POST":
        return None
    name = canonical_zone(request.POST.get("timezone"))
    return name if name and name != obj.timezone else None


def _zone_from_request(request, obj):
    """The zone the form's times are read in: the one being submitted, else the stored one.

    When a saved event moves to another zone and the organiser chose "same moment", the times
    are read in the old zone (the one they were shown in), so the event keeps its instant.
    """
    if request.method == "POST":
        name = canonical_zone(request.POST.get("timezone"))
        if name:
            if _submitted_zone(request, obj) and request.POST.get("zone_change") == SAME_INSTANT:
                return obj.timezone
            return name
    if obj is not None:
        return obj.timezone
    return Event._meta.get_field("timezone").default


def _zone_help(zone):
    # The span is what static/events/admin-event.js rewrites when the zone select changes.
    sentence = conditional_escape(gettext("In the event's time zone, %(zone)s."))
    span = format_html("<span data-event-zone>{}</span>", zone)
    return mark_safe(sentence % {"zone": span})  # noqa: S308 - both parts escaped above


class ZoneInput(forms.TextInput):
    """A text input with every IANA zone and its current UTC offset in a <datalist>, the
    common ones first: the browser filters it as the organiser types ("zurich", "+02")."""

    def __init__(self, attrs=None):
        super().__init__(
            {"list": "timezone-list", "autocomplete": "off", "class": "vTextField", **(attrs or {})}
        )

    def render(self, name, value, attrs=None, renderer=None):
        options = format_html_join(
            "",
            '<option value="{}" data-offset="{}">UTC{} {}</option>',
            ((zone, seconds, offset, zone) for zone, offset, seconds in offered_zones()),
        )
        return format_html(
            '{}<datalist id="timezone-list">{}</datalist>',
            super().render(name, value, attrs, renderer),
            options,
        )


# --- Dates typed the admin user's way ------------------------------------------------------
SAMPLE_DATE = date(2027, 6, 25)


def date_input_formats(request):
    """The date formats the admin user types: those of their browser's regional variant of
    the admin's language where Django has it (en-GB: 25/06/2027), else the language's; ISO
    (2027-06-25, what the calendar writes) always."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    formats = get_format("DATE_INPUT_FORMATS", lang=language)
    preferred = parse_accept_lang_header(request.headers.get("Accept-Language", ""))
    if preferred:
        code = preferred[0][0].lower()
        if (
            code != language
            and code.split("-")[0] == language.split("-")[0]
            and check_for_language(code)
        ):
            formats = get_format("DATE_INPUT_FORMATS", lang=code)
    return list(dict.fromkeys([*formats, "%Y-%m-%d"]))


def date_examples(formats):
    """'25/06/2027 or 2027-06-25': the date written in the first format and the shown one."""
    shown = get_format("DATE_INPUT_FORMATS")[0]
    examples = dict.fromkeys(SAMPLE_DATE.strftime(f) for f in (formats[0], shown))
    return gettext(" or ").join(examples)


def accept_date_formats(form, formats):
    """Let every date on `form` be typed in `formats`, and say how in its help and error."""
    if not formats:
        return
    examples = date_examples(formats)
    invalid = gettext("Enter a valid date, like %(examples)s.") % {"examples": examples}
    for field in form.fields.values():
        if isinstance(field, forms.SplitDateTimeField):
            field.error_messages = {**field.error_messages, "invalid_date": invalid}
            field = field.fields[0]
        if isinstance(field, forms.DateField):
            field.input_formats = formats
            field.error_messages = {**field.error_messages, "invalid": invalid}


def _date_help(formats):
    if not formats:
        return ""
    return gettext("Dates like %(examples)s.") % {"examples": date_examples(formats)}
