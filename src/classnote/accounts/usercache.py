"""The signed-in user, read from the cache instead of the database at every request.

Every request loads its user (and the user's municipality, for language and MFA policy); on the
lesson page that read was an eighth of the server's time, and on small requests most of it
(bench/classroom/profile.py). Both rows are kept in the default cache (process memory on the
embedded default, Redis in scale-out, shared by all processes) for at most USER_CACHE_SECONDS:

* any save or deletion of a user or municipality through the ORM drops its entry at once, in every
  process (signals below), and so do the few bulk updates of users (they call `forget`);
* the time limit bounds anything else (a change made directly in the database).

Deactivation, logout everywhere (session_epoch) and password changes are saves, so they take
effect on the next request, as before. The entries are derived copies of rows the data
inventory declares; deleting a person removes them with the row (docs/architecture.md).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from classnote.accounts.models import User
from classnote.tenancy.models import Municipality


def _user_key(user_id: object) -> str:
    return f"auth:user:{user_id}"


def _municipality_key(municipality_id: object) -> str:
    return f"auth:municipality:{municipality_id}"


def active_user(user_id: Any) -> User | None:
    """The active user with this id (with its municipality), or None."""
    seconds = settings.USER_CACHE_SECONDS
    if not seconds:
        return User.objects.select_related("municipality").filter(pk=user_id, is_active=True).first()
    user = cache.get(_user_key(user_id))
    if user is None:
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            return None
        cache.set(_user_key(user_id), user, seconds)
    if user.municipality_id is not None:
        municipality = cache.get(_municipality_key(user.municipality_id))
        if municipality is None:
            municipality = Municipality.objects.filter(pk=user.municipality_id).first()
            if municipality is not None:
                cache.set(_municipality_key(user.municipality_id), municipality, seconds)
        user.municipality = municipality
    return user if user.is_active else None


def forget(user_id: Any) -> None:
    cache.delete(_user_key(user_id))


@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def _user_changed(sender: Any, instance: User, **kwargs: Any) -> None:
    forget(instance.pk)


@receiver(post_save, sender=Municipality)
@receiver(post_delete, sender=Municipality)
def _municipality_changed(sender: Any, instance: Municipality, **kwargs: Any) -> None:
    cache.delete(_municipality_key(instance.pk))
