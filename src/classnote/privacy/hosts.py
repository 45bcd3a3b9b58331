"""The hosts the service may connect to, and who runs them.

* **Configured backends**: the hosts named by `DATABASE_URL`, `REDIS_URL`, `S3_ENDPOINT_URL` (AWS when
  unset) and `EMAIL_HOST`. They are the service's own infrastructure.
* **`OPERATOR_HOSTS`**: machines and networks the operator runs itself. /privacy/ says data is kept on
  the operator's own servers; it does not publish their names.
* **`SUBPROCESSORS`**: outside services that process personal data for the operator, each with the
  hosts the service connects to (none if it connects to none, e.g. the data centre). /privacy/
  publishes their name, purpose and location.

In production every configured backend must be on this machine, an operator host or a sub-processor's
host (settings.py refuses to start otherwise), so the published list cannot miss an outside service.
The egress guard (classnote.privacy.egress) lets the service connect to these hosts and nothing else.

This module is imported by settings.py: no Django models, no settings access at import.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Text = str | dict[str, str]  # operator text: one string, or one per language ({"en": ..., "ja": ...})

_SUBPROCESSOR_KEYS = {"name", "purpose", "location", "hosts"}


def normalise(host: str | bytes | None) -> str:
    """A host as written in a URL, a socket address or a lookup, in one comparable form."""
    if host is None:
        return ""
    if isinstance(host, bytes | bytearray):
        host = bytes(host).decode("idna", "replace")
    return host.strip().strip("[]").rstrip(".").lower()


def ip_of(host: str) -> IPAddress | None:
    """The address a host string names literally (scope ids dropped), or None for a name."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@cache
def _own_names() -> frozenset[str]:
    names = {"localhost", "localhost.localdomain"}
    with contextlib.suppress(OSError):  # a machine without a host name
        names.add(normalise(socket.gethostname()))
    return frozenset(names)


def is_local(host: str) -> bool:
    """This machine: loopback, the unspecified address, localhost, the machine's own host name."""
    if host == "":
        return True
    address = ip_of(host)
    if address is not None:
        return address.is_loopback or address.is_unspecified
    return host in _own_names() or host.endswith(".localhost")


@dataclass(frozen=True)
class HostPattern:
    """`db.example.org` (that host), `.example.org` (it and every subdomain), `*.example.org`
    (subdomains only), an address (`10.0.0.5`, `2001:db8::5`) or a network (`10.0.0.0/8`)."""

    text: str

    @classmethod
    def parse(cls, raw: str, variable: str) -> HostPattern:
        text = normalise(raw)
        bare = text.removeprefix("*.").removeprefix(".")
        if not bare or "*" in bare:
            raise ImproperlyConfigured(f"{variable}: {raw!r} is not a host name, address or network.")
        if bare != text and "." not in bare:
            raise ImproperlyConfigured(f"{variable}: {raw!r} would allow a whole top-level domain.")
        if "://" in text or (":" in text and "/" not in text and ip_of(text) is None):
            raise ImproperlyConfigured(f"{variable}: {raw!r}: give the host without a port or scheme.")
        if "/" in text:
            try:
                ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise ImproperlyConfigured(f"{variable}: {raw!r} is not a network (e.g. 10.0.0.0/8).") from None
        return cls(text)

    def matches(self, host: str) -> bool:
        address = ip_of(host)
        if "/" in self.text:
            return address is not None and address in ipaddress.ip_network(self.text, strict=False)
        if address is not None:
            return ip_of(self.text) == address
        if self.text.startswith("*."):
            return host.endswith(self.text[1:])
        if self.text.startswith("."):
            return host == self.text[1:] or host.endswith(self.text)
        return host == self.text


def parse_hosts(values: Iterable[str], variable: str) -> tuple[HostPattern, ...]:
    return tuple(HostPattern.parse(value, variable) for value in values)


def matches_any(host: str, patterns: Iterable[HostPattern]) -> bool:
    return any(pattern.matches(host) for pattern in patterns)


@dataclass(frozen=True)
class Subprocessor:
    """An outside service that processes personal data on the operator's behalf."""

    name: str
    purpose: Text
    location: Text
    hosts: tuple[HostPattern, ...] = ()

    def purpose_in(self, language: str) -> str:
        return localized(self.purpose, language)

    def location_in(self, language: str) -> str:
        return localized(self.location, language)


def localized(text: Text, language: str) -> str:
    """Operator text in the reader's language: the exact language, then its base, then English."""
    if isinstance(text, str):
        return text
    by_language = {key.lower().replace("_", "-"): value for key, value in text.items()}
    language = language.lower().replace("_", "-")
    for key in (language, language.split("-", 1)[0], "en"):
        if by_language.get(key):
            return by_language[key]
    return next(iter(by_language.values()), "")


def _text(value: Any, where: str) -> Text:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if (
        isinstance(value, dict)
        and value
        and all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items())
    ):
        return {k: v.strip() for k, v in value.items()}
    raise ImproperlyConfigured(f'{where} must be a text, or an object of texts by language ({{"en": ...}}).')


def parse_subprocessors(raw: str, variable: str = "SUBPROCESSORS") -> tuple[Subprocessor, ...]:
    """The JSON list `[{"name", "purpose", "location", "hosts": [...]}, ...]`; empty means none."""
    if not raw.strip():
        return ()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{variable} is not valid JSON: {exc.msg} (line {exc.lineno}).") from None
    if not isinstance(data, list):
        raise ImproperlyConfigured(f"{variable} must be a JSON list of sub-processors.")
    found = []
    for number, entry in enumerate(data, start=1):
        where = f"{variable}: entry {number}"
        if not isinstance(entry, dict):
            raise ImproperlyConfigured(f"{where} must be an object with name, purpose, location and hosts.")
        unknown = sorted(set(entry) - _SUBPROCESSOR_KEYS)
        if unknown:
            raise ImproperlyConfigured(f"{where} has unknown keys {unknown}; use name, purpose, location, hosts.")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ImproperlyConfigured(f"{where}: name must be a non-empty text.")
        hosts = entry.get("hosts", [])
        if not isinstance(hosts, list) or not all(isinstance(host, str) for host in hosts):
            raise ImproperlyConfigured(f"{where} ({name}): hosts must be a list of host names.")
        found.append(
            Subprocessor(
                name=name.strip(),
                purpose=_text(entry.get("purpose"), f"{where} ({name}): purpose"),
                location=_text(entry.get("location"), f"{where} ({name}): location"),
                hosts=parse_hosts(hosts, f"{where} ({name}): hosts"),
            )
        )
    return tuple(found)


def backend_hosts(get: Callable[[str, Any], Any]) -> list[tuple[str, str]]:
    """(variable, host) for every network host the settings configure a backend at.
    ``get(name, default)`` reads a setting (``globals().get`` in settings.py)."""
    found: list[tuple[str, str]] = []
    databases: Mapping[str, Mapping[str, Any]] = get("DATABASES", {}) or {}
    for database in databases.values():
        for host in str(database.get("HOST") or "").split(","):
            if host.strip() and not host.strip().startswith("/"):  # a path is a Unix socket
                found.append(("DATABASE_URL", normalise(host)))
    redis_url = str(get("REDIS_URL", "") or "")
    if redis_url and urlsplit(redis_url).hostname:
        found.append(("REDIS_URL", normalise(urlsplit(redis_url).hostname)))
    storage: Mapping[str, Any] = (get("STORAGES", {}) or {}).get("default", {})
    if "s3" in str(storage.get("BACKEND", "")).lower():
        options = storage.get("OPTIONS", {})
        endpoint = options.get("endpoint_url")
        if endpoint:
            found.append(("S3_ENDPOINT_URL", normalise(urlsplit(endpoint).hostname)))
        else:  # AWS: boto3 picks the regional endpoint
            region = options.get("region_name")
            found.append(("S3_ENDPOINT_URL", f"s3.{region}.amazonaws.com" if region else "s3.amazonaws.com"))
    email_backend = str(get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"))
    if email_backend.endswith("smtp.EmailBackend"):
        found.append(("EMAIL_HOST", normalise(str(get("EMAIL_HOST", "localhost")))))
    return found


def undeclared_backends(
    backends: Iterable[tuple[str, str]],
    operator_hosts: Iterable[HostPattern],
    subprocessors: Iterable[Subprocessor],
) -> list[tuple[str, str]]:
    """Configured backends that are neither on this machine nor declared."""
    declared = [*operator_hosts, *(pattern for s in subprocessors for pattern in s.hosts)]
    return [(variable, host) for variable, host in backends if not is_local(host) and not matches_any(host, declared)]
