from django import template

register = template.Library()


@register.filter
def translated(obj, field):
    """An organiser-written field in the current language: {{ event|translated:"title" }}."""
    return obj.translated(field)
