"""The six official UN languages: the codes used for interface, emails and interpretation.

They are the site's languages, so they are defined once, as settings.LANGUAGES.
"""

from django.conf import settings

UN_LANGUAGES = settings.LANGUAGES
UN_LANGUAGE_CODES = [code for code, _name in UN_LANGUAGES]
