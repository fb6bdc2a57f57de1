"""Which uploads count as a document: PDF, DOCX or ODT, judged by their bytes, not their name.

A renamed program (.exe called .pdf), an archive passing for a DOCX, or a file over the size
limit is refused with a message the organiser can act on.
"""

import zipfile
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
CONTENT_TYPES = {".pdf": PDF, ".docx": DOCX, ".odt": ODT}
# A document that unpacks to more than this many times its size is an archive bomb, not a text.
MAX_UNPACK_RATIO = 100


def max_upload_bytes():
    return settings.DOCUMENT_MAX_UPLOAD_MB * 1024 * 1024


def _looks_like_pdf(handle):
    handle.seek(0)
    head = handle.read(1024)
    if b"%PDF-" not in head:
        return False
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(max(size - 2048, 0))
    return b"%%EOF" in handle.read()


def _zip_members(handle):
    handle.seek(0)
    if handle.read(4) != b"PK\x03\x04":
        return None
    handle.seek(0)
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
            unpacked = sum(info.file_size for info in infos)
            mimetype = b""
            if infos and infos[0].filename == "mimetype":
                mimetype = archive.read("mimetype")[:100].strip()
    except (zipfile.BadZipFile, OSError, EOFError):
        return None
    return {info.filename for info in infos}, unpacked, mimetype


def _looks_like_docx(handle):
    found = _zip_members(handle)
    if found is None:
        return False
    names, unpacked, _mimetype = found
    return (
        "[Content_Types].xml" in names
        and "word/document.xml" in names
        and unpacked <= MAX_UNPACK_RATIO * max_upload_bytes()
    )


def _looks_like_odt(handle):
    found = _zip_members(handle)
    if found is None:
        return False
    names, unpacked, mimetype = found
    return (
        mimetype == ODT.encode()
        and "content.xml" in names
        and unpacked <= MAX_UNPACK_RATIO * max_upload_bytes()
    )


CHECKS = {PDF: _looks_like_pdf, DOCX: _looks_like_docx, ODT: _looks_like_odt}


def validate_document(file):
    """Return the content type of an uploaded document, or raise ValidationError.

    `file` is any Django File (an upload in the admin, a file on disk in import_event).
    """
    size = file.size
    if size > max_upload_bytes():
        raise ValidationError(
            _("The file is %(size)s; documents may be at most %(limit)s."),
            code="too_large",
            params={"size": filesizeformat(size), "limit": filesizeformat(max_upload_bytes())},
        )
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    extension = PurePath(file.name or "").suffix.lower()
    content_type = CONTENT_TYPES.get(extension)
    if content_type is None:
        raise ValidationError(
            _("Upload a PDF, Word (.docx) or OpenDocument (.odt) file."), code="extension"
        )
    was_closed = file.closed
    if was_closed:
        file.open("rb")
    try:
        position = file.tell()
        matches = CHECKS[content_type](file)
        file.seek(position)
    finally:
        if was_closed:
            file.close()
    if not matches:
        raise ValidationError(
            _(
                "This file is not a real %(kind)s document, whatever its name says. "
                "Upload a PDF, Word (.docx) or OpenDocument (.odt) file."
            ),
            code="content",
            params={"kind": extension.lstrip(".").upper()},
        )
    return content_type
