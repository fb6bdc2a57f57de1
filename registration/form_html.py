"""The sign-up form's HTML, rendered once per distinct form and reused for every visitor.

Why: rendering the form through crispy-forms and Django's template-based widgets cost about
40 ms of CPU per page (the country select alone renders two templates per option, ~250
options), five times the whole event page, and the form page is the one page of a sign-up
that no cache in front can serve: every visitor gets their own CSRF token. Yet an unbound
form is the same for every visitor with the same language and event, except for the token.

So the unbound form is rendered once, with a marker where the CSRF token goes, and kept in
this process (a bounded dict; `render_form`). Each request splices its own token in, plus
the widgets of any field marked per-visitor (`per_visitor`). A bound form (the page shown
again with errors) is rendered in full, as crispy always did.

Correctness does not rest on remembering to bump a version: the cache key is the rendered
form's *signature*, computed on every request from the live form (`signature`): the
language, the script prefix, the form class, each field's name, type, widget (type, attrs,
options), label, help text, required flag, initial value and choices, and the form's own
`render_key()` for what its crispy layout reads besides its fields (the event's slug for the
form's action, the conditional questions' wrappers). Two forms with the same signature
render the same HTML; a question edited, a mode changed or a field added by a new feature
changes the signature, and the next visitor gets a fresh render. Entries nobody asks for any
more are dropped oldest first.

A new field whose HTML differs between two visitors who see the same form (a proof-of-work
challenge, a value prefilled from an invitation) must be marked with `per_visitor(field)`:
its widget is then rendered for each request and spliced in, and its attrs, value and
choices stay out of the signature (its label and help text must not vary per visitor).
Anything a form's crispy helper reads other than its fields goes into the form's
`render_key()`. tests/registration/test_form_html.py compares the spliced output with a
full crispy render for every language and registration mode, with questions present.
"""

import re
import secrets
import threading
from typing import Any

from crispy_forms.templatetags.crispy_forms_tags import CrispyFormNode
from crispy_forms.templatetags.crispy_forms_utils import remove_spaces
from django import forms
from django.template import Context
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.safestring import SafeData, SafeString, mark_safe

MAX_ENTRIES = 128
# Random per process: no organiser-written text can contain it by chance or on purpose.
_MARKER = f"convene-splice-{secrets.token_hex(12)}"
CSRF_MARKER = f"{_MARKER}-csrf"  # the token while the form is rendered for the cache

_SPLICE_POINT = re.compile(f"<{_MARKER}:([^>]*)>")


def _splice_point(name):
    return f"<{_MARKER}:{name}>"


_rendered: dict[tuple, "_Entry"] = {}
_lock = threading.Lock()


def per_visitor(field: forms.Field) -> forms.Field:
    """Marks `field` as rendered for each visitor (see the module docstring); returns it."""
    field.per_visitor = True  # type: ignore[attr-defined]
    return field


def is_per_visitor(field: forms.Field) -> bool:
    return getattr(field, "per_visitor", False)


class _Entry:
    """A rendered form: its HTML cut at the splice points, and how to render each per-visitor
    widget as crispy did (the attrs it passed and the CSS class it set)."""

    __slots__ = ("parts", "widgets")

    def __init__(self, parts: list[str], widgets: dict[str, tuple[dict, Any]]):
        self.parts = parts
        self.widgets = widgets


def render_crispy(form: forms.Form, context: Context) -> SafeString:
    """What `{% crispy form %}` renders in `context`."""
    with context.push(form=form):
        return CrispyFormNode("form", None).render(context)


def render_form(form: forms.Form, context: Context) -> SafeString:
    """The form's HTML as `{% crispy form %}` in `context` would render it: from the cache
    for an unbound form, in full for a bound one."""
    if form.is_bound:
        return render_crispy(form, context)
    key = signature(form)
    entry = _rendered.get(key)
    if entry is None:
        entry = _render_entry(form)
        with _lock:
            if len(_rendered) >= MAX_ENTRIES:
                _rendered.pop(next(iter(_rendered)), None)
            _rendered[key] = entry
    pieces = []
    for index, part in enumerate(entry.parts):
        if index % 2 == 0:
            pieces.append(part)
        elif part == "csrf":
            # Django's own {% csrf_token %}, with this request's token.
            pieces.append(CsrfTokenNode().render(context))
        else:
            pieces.append(_visitor_widget(form, part, entry.widgets[part]))
    # Pieces of crispy's own output, Django's csrf input and widgets: escaped when rendered.
    return mark_safe("".join(pieces))  # noqa: S308


def forget_rendered_forms() -> None:
    """Empties this process's cache (tests; nothing else needs to: see signature())."""
    with _lock:
        _rendered.clear()


def _render_entry(form):
    captured: dict[str, tuple[dict, Any]] = {}
    for name, field in form.fields.items():
        if is_per_visitor(field):
            _capture(field.widget, name, captured)
    try:
        html = render_crispy(form, Context({"csrf_token": CSRF_MARKER}))
    finally:
        for field in form.fields.values():
            field.widget.__dict__.pop("render", None)
    csrf_input = f'<input type="hidden" name="csrfmiddlewaretoken" value="{CSRF_MARKER}">'
    if html.count(csrf_input) != 1:
        raise RuntimeError("the form's CSRF input is not where render_form expects it")
    # Splice points are tag-shaped, so crispy's whitespace collapsing (remove_spaces) treats
    # them as it treats the tags they stand for.
    html = html.replace(csrf_input, _splice_point("csrf"))
    return _Entry(_SPLICE_POINT.split(html), captured)


def _capture(widget, name, captured):
    """Makes `widget` (this form's own copy) render a marker and note how crispy called it."""

    def render(*args, **kwargs):
        attrs = kwargs.get("attrs", args[2] if len(args) > 2 else None)
        marker = f"{name}-widget"
        captured[marker] = (dict(attrs or {}), widget.attrs.get("class"))
        return mark_safe(_splice_point(marker))  # noqa: S308 - our marker, field name

    widget.render = render


def _visitor_widget(form, marker, how):
    attrs, css_class = how
    name = marker.removesuffix("-widget")
    bound = form[name]
    widget = bound.field.widget
    if css_class is not None:
        widget.attrs = {**widget.attrs, "class": css_class}
    html = widget.render(bound.html_name, bound.value(), attrs=attrs, renderer=form.renderer)
    # As crispy's {% specialspaceless %} did to the whole form.
    return remove_spaces(html)


# --- The signature --------------------------------------------------------------------------


def _text(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return tuple(_text(item) for item in value)
    if isinstance(value, (bool, int)):
        return value
    return (str(value), isinstance(value, SafeData))


def _choices(choices):
    return tuple(
        (key, _choices(label) if isinstance(label, (list, tuple)) else _text(label))
        for key, label in choices
    )


def _field_signature(form, name, field):
    widget = field.widget
    common = (
        name,
        type(field),
        type(widget),
        _text(field.label),
        _text(field.help_text),
        field.required,
        field.disabled,
        field.show_hidden_initial,
        field.localize,
    )
    if is_per_visitor(field):
        return common
    extra = tuple(
        (key, repr(value))
        for key, value in sorted(widget.__dict__.items())
        if key not in {"attrs", "choices", "_choices"}  # choices: below
    )
    attrs = tuple((key, _text(value)) for key, value in sorted(widget.attrs.items()))
    choices = _choices(field.choices) if hasattr(field, "choices") else None
    return (*common, extra, attrs, choices, _text(form[name].value()))


def signature(form: forms.Form) -> tuple:
    """Everything the unbound form's HTML depends on (see the module docstring). Equal
    signatures: equal HTML, per-visitor widgets and the CSRF token aside."""
    render_key = getattr(form, "render_key", None)
    return (
        translation.get_language(),
        get_script_prefix(),
        type(form),
        form.prefix,
        form.auto_id,
        form.label_suffix,
        form.use_required_attribute,
        render_key() if render_key else None,
        tuple(_field_signature(form, name, field) for name, field in form.fields.items()),
    )
