"""The six official UN languages: the codes used for interface, emails and interpretation."""

from django.utils.translation import gettext_lazy as _

UN_LANGUAGES = [
    ("ar", _("Arabic")),
    ("zh-hans", _("Chinese")),
    ("en", _("English")),
    ("fr", _("French")),
    ("ru", _("Russian")),
    ("es", _("Spanish")),
]
UN_LANGUAGE_CODES = [code for code, _name in UN_LANGUAGES]
