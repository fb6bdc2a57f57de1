"""An organiser's message as email text: placeholders filled, Markdown made into sanitised
HTML (events.presentation.render_markdown, as the event's description).

The message is rendered once per batch, language and version of the message, with the
registrant's own values ({name}, {manage_link}) left as private-use tokens; personalise()
swaps them in per registrant. The values are put in after the Markdown is rendered, so a
name such as "*Ana*" or "<b>" is shown as written, never read as Markdown or HTML.
"""

from typing import Any

from django.utils.html import escape, format_html

from events.presentation import render_markdown, span_texts
from notifications.message_rules import PLACEHOLDER_RE, PLACEHOLDERS
from notifications.models import Message

# One token per placeholder: private-use characters and a digit, which neither Markdown
# nor the sanitiser touches (no underscore for Markdown to read as emphasis).
TOKENS = {name: f"\ue001{index}\ue001" for index, name in enumerate(PLACEHOLDERS)}
PERSONAL = ("name", "manage_link")
LINKS = ("manage_link", "meeting_link")

Parts = tuple[str, str, str]  # subject, text, HTML; personal placeholders still tokens


def _tokenised(text: str) -> str:
    return PLACEHOLDER_RE.sub(lambda match: TOKENS.get(match.group(1), match.group(0)), text)


def _fill(text: str, values: dict[str, str], *, html: bool) -> str:
    for name, value in values.items():
        if html and name in LINKS and value:
            shown = str(format_html('<a href="{}" dir="ltr">{}</a>', value, value))
        else:
            shown = escape(value) if html else value
        text = text.replace(TOKENS[name], shown)
    return text


def parts(message: Message, language: str, cache: dict[Any, Any]) -> Parts:
    """Subject, text and HTML of `message` in `language` (English where it has no
    translation), the event's values filled in. Call inside translation.override(language)."""
    event = message.event
    key = ("message", message.pk, message.updated_at, language, event.pk, event.updated_at)
    if key not in cache:
        shared = {
            "event_title": event.translated("title", language),
            "event_date": span_texts(event.starts_at, event.ends_at, event.tz)["date"],
            "meeting_link": event.meeting_url,
        }
        subject = _fill(_tokenised(message.translated("subject", language)), shared, html=False)
        body = _tokenised(message.translated("body", language))
        text = _fill(body, shared, html=False)
        html = _fill(str(render_markdown(body)), shared, html=True)
        cache[key] = (" ".join(subject.split()), text.strip(), html)
    return cache[key]


def personalise(rendered: Parts, *, name: str, manage_url: str) -> Parts:
    """`rendered` with the registrant's own values in place of their tokens."""
    values = {"name": name, "manage_link": manage_url}
    subject, text, html = rendered
    return (
        _fill(subject, values, html=False),
        _fill(text, values, html=False),
        _fill(html, values, html=True),
    )
