"""Request bodies: refused by their declared size and type before anything reads them.

No public form takes files, and the largest one (registration) is a few KiB of text. Yet Django
parses a POST body on first access to request.POST, which CsrfViewMiddleware does before any
view runs, and multipart file parts are spooled to disk whatever DATA_UPLOAD_MAX_MEMORY_SIZE
says. So this middleware answers from the headers alone:

- 415 for a multipart body, except from signed-in staff in the admin (document uploads);
- 413 for a body over PUBLIC_MAX_BODY_BYTES (staff in the admin: the largest document plus
  ADMIN_FORM_BYTES for the other fields; the ESP webhooks under /anymail/: Django's
  DATA_UPLOAD_MAX_MEMORY_SIZE).

It must stay in MIDDLEWARE before anything that reads request.POST or request.body; process_view
(where CsrfViewMiddleware reads the form) runs only after every middleware's __call__, so any
place in the list does, and after AuthenticationMiddleware it can tell staff apart. A body sent
without a Content-Length (chunked) is never read by Django at all.
"""

import re

from django.conf import settings
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# The registration form with every field at its longest, percent-encoded, is under 8 KiB.
PUBLIC_MAX_BODY_BYTES = 64 * 1024
# Beyond the document itself: the other fields of an admin form, and the multipart framing.
ADMIN_FORM_BYTES = 1024 * 1024


def _admin_max_body_bytes():
    return settings.DOCUMENT_MAX_UPLOAD_MB * 1024 * 1024 + ADMIN_FORM_BYTES


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        languages = "|".join(re.escape(code) for code, _name in settings.LANGUAGES)
        self.admin_path = re.compile(rf"^/({languages})/admin/")

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length:
            limit, files_allowed = self._allowance(request, length)
            if length > limit:
                return _refused(request, status=413, limit=limit)
            if not files_allowed and request.content_type.startswith("multipart/"):
                return _refused(request, status=415, limit=limit)
        return self.get_response(request)

    def _allowance(self, request, length):
        """(the largest body, whether multipart is accepted) for this request."""
        if request.path_info.startswith("/anymail/"):
            # ESP webhooks post JSON batches, some (Mailgun) as form data.
            return settings.DATA_UPLOAD_MAX_MEMORY_SIZE, True
        multipart = request.content_type.startswith("multipart/")
        if (length > PUBLIC_MAX_BODY_BYTES or multipart) and self._staff_in_admin(request):
            return _admin_max_body_bytes(), True
        return PUBLIC_MAX_BODY_BYTES, False

    def _staff_in_admin(self, request):
        """Staff in the admin, the one place that takes files (documents)."""
        if not self.admin_path.match(request.path_info):
            return False
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated and user.is_staff)


def _refused(request, *, status, limit):
    if status == 415:
        title = _("This form does not take files")
        message = _(
            "Your browser sent this form as a file upload, which this page does not accept. "
            "Go back and send the form again without attachments."
        )
    else:
        title = _("Too much data")
        message = _(
            "This page accepts at most %(limit)s of form data, and your browser sent more. "
            "Go back, shorten what you entered, and send the form again."
        ) % {"limit": filesizeformat(limit)}
    return render(
        request, "request_refused.html", {"title": title, "message": message}, status=status
    )
