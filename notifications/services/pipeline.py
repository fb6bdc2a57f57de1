"""The one-thread pipeline between the send loop and the mail provider."""

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from notifications.models import Delivery


@dataclass(frozen=True)
class Answer:
    """What the provider made of one message: `error` is None when it accepted it."""

    delivery: Delivery
    message: EmailMessage
    error: Exception | None


class ProviderThread:
    """Talks to the mail provider on one helper thread, so that the worker builds the next
    message (and records the last outcome) while the provider answers.

    At most one message is in flight: hand_over() is called only once answer() has
    collected the one before. So a message goes out only after the one before it was
    answered, and a worker killed at any moment leaves at most two sent messages
    unrecorded (the one in flight and the one whose outcome it was recording). The helper
    thread never touches the database. Use as a context manager: leaving it waits for the
    thread to stop."""

    def __init__(self, mailer: BaseEmailBackend) -> None:
        self._mailer = mailer
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail-provider")
        self._in_flight: tuple[Delivery, EmailMessage, Future] | None = None

    def __enter__(self) -> "ProviderThread":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._executor.shutdown(wait=True)

    def hand_over(self, delivery: Delivery, message: EmailMessage) -> None:
        """Starts sending `message`; its answer is collected by the next answer()."""
        if self._in_flight is not None:
            raise RuntimeError("The previous message's answer was not collected.")
        future = self._executor.submit(self._mailer.send_messages, [message])
        self._in_flight = (delivery, message, future)

    def answer(self) -> Answer | None:
        """Waits for the provider's answer to the message in flight; None when there is none."""
        if self._in_flight is None:
            return None
        delivery, message, future = self._in_flight
        self._in_flight = None
        error = future.exception()
        if error is not None and not isinstance(error, Exception):
            raise error  # KeyboardInterrupt, SystemExit: not an answer
        return Answer(delivery, message, error)
