from django import template
from django.urls import translate_url

register = template.Library()


@register.filter
def translate_path(path, language):
    """The same page in another language: /fr/events/x/ -> /ar/events/x/."""
    return translate_url(path, language)
