"""Email addresses as Convene stores them: one canonical form per mailbox.

`canonical_email()` decides it, and everything that stores or looks up a registrant's address
asks it: the registration form, `services.register()` (and so the duplicate check and the
re-sent confirmation), the admin's search and the data migration that moved older rows. The
unique constraint (event, email) then sees `"Dup"@EXAMPLE.org` in full-width letters, `dup@exämple.org` and
`dup@xn--exmple-cua.org` as the one address each pair is.

The syntax, IDNA (UTS-46) and special-use domain rules are python-email-validator's; it
never looks anything up in the DNS here (a request must not wait on a resolver).
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from email_validator import EmailNotValidError, validate_email

INVALID_MESSAGE = _("Enter an email address such as name@example.org.")
INVISIBLE_MESSAGE = _(
    "This address contains a space or an invisible character. Type it again rather than pasting it."
)


def _hidden(char: str) -> bool:
    # Controls, format characters (soft hyphen, zero-width space, bidi controls) and every
    # space but the ordinary one, which a person sees and gets the usual message for.
    category = unicodedata.category(char)
    return category[0] == "C" or (category[0] == "Z" and char != " ")


def canonical_email(address: str) -> str:
    """The form of `address` Convene stores: ASCII local part in lower case without quotes it
    does not need, domain in lower-case IDNA (punycode). Raises ValidationError, with a
    message for the person, for an address we could never deliver to: a syntax error, a
    control, format or space character anywhere (soft hyphen, zero-width space, bidi
    controls), a local part that needs quotes, an address literal (`x@[127.0.0.1]`), a
    domain without a dot or a special-use one (`root@localhost`, `x@example.test`), or a
    non-ASCII local part (our mail path does not speak SMTPUTF8)."""
    address = unicodedata.normalize("NFC", (address or "").strip())
    if any(_hidden(char) for char in address):
        raise ValidationError(INVISIBLE_MESSAGE, code="invisible_characters")
    try:
        valid = validate_email(
            address,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=True,  # so that needless quotes are removed, not refused
            allow_domain_literal=False,
            allow_display_name=False,
            allow_empty_local=False,
            globally_deliverable=True,
        )
    except EmailNotValidError:
        raise ValidationError(INVALID_MESSAGE, code="invalid") from None
    if valid.local_part.startswith('"'):
        # The quotes are needed (a space, two dots...): few mail systems accept such an
        # address, and it is an easy way to spell one mailbox several ways.
        raise ValidationError(INVALID_MESSAGE, code="quoted_local_part")
    return f"{valid.local_part.lower()}@{valid.ascii_domain.lower()}"


def canonical_email_or_none(address: str) -> str | None:
    """canonical_email(), or None for an address it refuses (for look-ups and searches)."""
    try:
        return canonical_email(address)
    except ValidationError:
        return None
