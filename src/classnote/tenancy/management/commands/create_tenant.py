"""`classnote create_tenant`: an operator creates a municipality (or private school) and its first admin."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction

from classnote.accounts.actions import generate_password
from classnote.accounts.models import User
from classnote.base.roles import Role
from classnote.tenancy.models import Country, Municipality, Region


class Command(BaseCommand):
    help = "Create a tenant (board of education or private school) and its first municipal administrator."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--country", required=True, help="ISO 3166-1 alpha-2 code, e.g. JP")
        parser.add_argument("--country-name", help="name of the country, when it is new")
        parser.add_argument("--region", required=True, help="prefecture, state or province")
        parser.add_argument("--name", required=True, help="name of the board of education or school")
        parser.add_argument("--private", action="store_true", help="a private school contracting on its own")
        parser.add_argument("--language", default="en", choices=[code for code, _ in settings.LANGUAGES])
        parser.add_argument("--admin-login", required=True, help="login ID of the first administrator")
        parser.add_argument("--admin-name", required=True, help="display name of the first administrator")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["country"].upper()
        if len(code) != 2 or not code.isalpha():
            raise CommandError("--country must be a two-letter ISO code.")
        password = generate_password(14)
        try:
            with transaction.atomic():
                country, _ = Country.objects.get_or_create(
                    code=code, defaults={"name": options["country_name"] or code}
                )
                region, _ = Region.objects.get_or_create(country=country, name=options["region"])
                municipality = Municipality.objects.create(
                    region=region,
                    name=options["name"],
                    default_language=options["language"],
                    kind=Municipality.Kind.PRIVATE if options["private"] else Municipality.Kind.BOARD,
                )
                User.objects.create_user(
                    options["admin_login"],
                    password,
                    display_name=options["admin_name"],
                    role=Role.MUNICIPAL_ADMIN,
                    municipality=municipality,
                )
        except (IntegrityError, ValidationError) as error:
            raise CommandError(f"Nothing was created: {error}") from None
        self.stdout.write(f"Created tenant #{municipality.pk}. First administrator: {options['admin_login']}")
        self.stdout.write(f"One-time password (shown only now): {password}")
        self.stdout.write("They must set up two-factor login at first login.")
