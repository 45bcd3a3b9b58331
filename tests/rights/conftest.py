from __future__ import annotations

import time

from django.test import Client

from classnote.accounts.models import User
from tests.conftest import login_as


def admin_client(user: User) -> Client:
    """Signed in and freshly authenticated (as after entering the password), so step-up passes."""
    client = login_as(Client(), user)
    session = client.session
    session["account_authentication_methods_user"] = str(user.pk)
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "reauthenticated": True}]
    session.save()
    return client
