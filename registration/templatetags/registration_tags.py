from django import template

register = template.Library()


@register.filter
def translated(obj, field):
    """An organiser-written field in the current language: {{ event|translated:"title" }}."""
    return obj.translated(field)


@register.simple_tag(takes_context=True)
def registration_form(context, form):
    """`{% crispy form %}` for the sign-up form, served from registration.form_html's
    per-process cache when unbound (the visitor's CSRF token spliced in)."""
    from registration.form_html import render_form

    return render_form(form, context)
