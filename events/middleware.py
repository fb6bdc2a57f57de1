import re

from django.conf import settings
from django.http import HttpResponse

from events import cache as event_cache


class EventPageCacheMiddleware:
    """Serve cached public event pages before sessions, CSRF and URL resolution.

    Put it after the CSP middleware (hits need a nonce and the header) and before
    SessionMiddleware. Misses, and every request that is not a cookie-less anonymous GET,
    go on to the view unchanged; see events/cache.py for what is cached and for how long.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        languages = "|".join(re.escape(code) for code, _name in settings.LANGUAGES)
        self.path = re.compile(rf"^/({languages})/events/([-a-zA-Z0-9_]+)/$")

    def __call__(self, request):
        match = self.path.match(request.path_info)
        if match and event_cache.cacheable(request):
            language, slug = match.groups()
            if slug != "past":
                request.get_host()  # DisallowedHost (400) for a Host not in ALLOWED_HOSTS
                html = event_cache.cached_page(request, slug=slug, language=language)
                if html is not None:
                    response = HttpResponse(html)
                    response["Content-Language"] = language
                    response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
                    return response
                request.event_page_cache_missed = True
        return self.get_response(request)
