"""An organiser's message as one person would get it, built outside the outbox: the admin's
preview in each language and the test an organiser sends to themselves."""

import copy
import logging
from typing import Any

from django.core.mail import mailers
from django.utils.translation import gettext

from notifications import services
from notifications.admin import PREVIEW_TOKEN
from notifications.emails import build_message
from notifications.fast.mime import OutboxEmail
from notifications.models import Delivery, Message
from registration.models import Registration

logger = logging.getLogger(__name__)


def sample_registrant(message: Message, language: str) -> Registration:
    """The first person the message is for, shown in `language`; a made-up one when nobody
    matches yet. Never saved."""
    found = services.message_recipients(message).order_by("pk").first()
    sample = (
        copy.copy(found)
        if found
        else Registration(
            event=message.event,
            name="Amina Diallo",  # a sample, not a translatable text
            email="amina.diallo@example.org",
            status=Registration.Status.CONFIRMED,
        )
    )
    sample.preferred_language = language
    return sample


def email_for(message: Message, registration: Registration) -> OutboxEmail:
    """The email `registration` would get, built now, with a dead manage link."""
    delivery = Delivery(
        event=message.event,
        registration=registration,
        kind=Delivery.Kind.MESSAGE,
        version=message.pk,
    )
    delivery.message_row = message  # type: ignore[attr-defined]
    return build_message(delivery=delivery, token=PREVIEW_TOKEN)


def send_test(message: Message, *, user: Any, language: str) -> None:
    """Sends the message, as the sample registrant would get it, to `user` alone: straight to
    the provider, outside the outbox (no registrant's ledger changes), and logged."""
    email = email_for(message, sample_registrant(message, language))
    email.to = [user.email]
    email.subject = gettext("[Test] %(subject)s") % {"subject": email.subject}
    mailers.default.send_messages([email])
    logger.info("Test of message %s (%s) sent to %s", message.pk, language, user.email)
