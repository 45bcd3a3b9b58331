"""Response headers a view asks for itself (the middleware sets the defaults with ``setdefault``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings

V = TypeVar("V", bound=Callable[..., Any])


def uses_camera(view: V) -> V:
    """The page may ask for the camera and the microphone (Permissions-Policy ``self``); every other
    page denies both (settings.PERMISSIONS_POLICY), so a script injected elsewhere cannot."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        response = view(*args, **kwargs)
        response["Permissions-Policy"] = settings.PERMISSIONS_POLICY_CAPTURE
        return response

    return wrapper  # type: ignore[return-value]
