"""Documents on the event form, with uploads kept across a failed save."""

import uuid
from datetime import timedelta
from pathlib import PurePath

from django import forms
from django.contrib import admin
from django.core import signing
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import get_valid_filename
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events import access
from events.models import Document

# --- Uploads kept across a failed save ----------------------------------------------------
# A browser cannot put a chosen file back into a re-displayed form, so after a validation
# error anywhere on the page a good upload is kept here and named in a signed hidden field;
# the next submission takes it from here unless another file is chosen.
STASH_DIR = "stash"
STASH_SALT = "events.admin.document-stash"
STASH_MAX_AGE = 24 * 3600


def stash_upload(upload):
    """Keep an uploaded file for the next submission; returns the token naming it."""
    _forget_old_stashes()
    name = default_storage.save(
        f"{STASH_DIR}/{uuid.uuid4().hex}/{get_valid_filename(upload.name)}", upload
    )
    return signing.dumps(name, salt=STASH_SALT)


def stashed_upload(token):
    """The kept file a token names, as an upload (None: unknown, expired or gone)."""
    try:
        name = signing.loads(token, salt=STASH_SALT, max_age=STASH_MAX_AGE)
    except signing.BadSignature:
        return None
    if not default_storage.exists(name):
        return None
    return UploadedFile(
        default_storage.open(name), name=PurePath(name).name, size=default_storage.size(name)
    ), name


def _forget_old_stashes():
    # Kept files of organisers who gave up; checked when something is kept, so no job needed.
    try:
        folders, _files = default_storage.listdir(STASH_DIR)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - timedelta(seconds=STASH_MAX_AGE)
    for folder in folders:
        for file_name in default_storage.listdir(f"{STASH_DIR}/{folder}")[1]:
            path = f"{STASH_DIR}/{folder}/{file_name}"
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)


class KeptFileInput(forms.ClearableFileInput):
    """The file input, saying which earlier upload is kept when there is one."""

    kept_name = ""

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        if not self.kept_name:
            return html
        note = gettext("Kept from your last try: %(name)s. No need to attach it again.") % {
            "name": self.kept_name
        }
        return format_html('{}<p class="help kept-file">{}</p>', html, note)


class DocumentForm(forms.ModelForm):
    kept_file = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Document
        fields = ["kind", "title", "language", "file", "position"]
        widgets = {"file": KeptFileInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stash_name = None
        file_key = self.add_prefix("file")
        token = self.data.get(self.add_prefix("kept_file")) if self.is_bound else None
        if token and file_key not in self.files:
            found = stashed_upload(token)
            if found:
                upload, self.stash_name = found
                self.files = self.files.copy()
                self.files[file_key] = upload
                self.fields["file"].widget.kept_name = upload.name

    def keep_upload(self):
        """After a failed save: keep a good new upload for the next try (see stash_upload)."""
        upload = self.files.get(self.add_prefix("file"))
        if upload is None or self.stash_name or self.has_error("file"):
            return
        self.data[self.add_prefix("kept_file")] = stash_upload(upload)
        self.fields["file"].widget.kept_name = upload.name


class DocumentInline(access.EventScopedInline, admin.TabularInline):
    model = Document
    form = DocumentForm
    extra = 0
    fields = ["kind", "title", "language", "file", "kept_file", "size_display", "position"]
    readonly_fields = ["size_display"]

    @admin.display(description=_("size"))
    def size_display(self, obj):
        from django.template.defaultfilters import filesizeformat

        return filesizeformat(obj.size) if obj.pk else "—"
