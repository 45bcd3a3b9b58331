"""Country names in the reader's language, from CLDR (Babel), by ISO 3166-1 code.

The stored name of a country (tenancy.Country.name) is the operator's own spelling; pages show the
name that CLDR gives for the active language, and fall back to the stored one for a code CLDR does
not know."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError
from django.utils.translation import get_language, to_locale


@lru_cache(maxsize=16)
def _territories(language: str) -> dict[str, str]:
    try:
        return dict(Locale.parse(to_locale(language)).territories)
    except (UnknownLocaleError, ValueError):
        return {}


def country_name(code: str, fallback: str) -> str:
    """The country's name in the active language ("日本", "臺灣"...), or `fallback`."""
    return _territories(get_language() or "en").get((code or "").upper(), fallback)
