from django.conf import settings


def site(request):
    """Site name for the header and <title> of every page."""
    return {"SITE_NAME": settings.SITE_NAME}
