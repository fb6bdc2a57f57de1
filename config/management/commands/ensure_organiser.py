"""Make sure an organiser (staff superuser) can log in to /admin/. Safe to run twice."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create the organiser login if it does not exist. Name and password come from "
        "CONVENE_ADMIN_USER / CONVENE_ADMIN_PASSWORD, else 'organiser' and a generated password "
        "printed once."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        username = os.environ.get("CONVENE_ADMIN_USER", "organiser")
        password = os.environ.get("CONVENE_ADMIN_PASSWORD", "")
        user = User.objects.filter(username=username).first()
        if password:
            self._check_strength(password, user or User(username=username))
        if user is not None:
            if password and not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
                self.stdout.write(
                    f"Organiser login '{username}': password set from CONVENE_ADMIN_PASSWORD."
                )
            else:
                self.stdout.write(
                    f"Organiser login: '{username}' (password as printed when it was created)."
                )
            return
        generated = not password
        password = password or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        if generated:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created the organiser login for /admin/: user '{username}', password '{password}'"
                    " — shown only this once; set CONVENE_ADMIN_PASSWORD to choose your own."
                )
            )
        else:
            self.stdout.write(
                f"Created the organiser login '{username}' with CONVENE_ADMIN_PASSWORD."
            )

    def _check_strength(self, password, user):
        """Django's password validators (AUTH_PASSWORD_VALIDATORS), as for any other password."""
        try:
            validate_password(password, user=user)
        except ValidationError as error:
            raise CommandError(
                "CONVENE_ADMIN_PASSWORD is too weak: "
                + " ".join(error.messages)
                + " Choose a longer, uncommon one (or unset it to have one generated)."
            ) from None
