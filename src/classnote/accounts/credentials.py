"""Age-appropriate pupil passwords: pictures, a word and a number, or random letters.

A school chooses a style per band of grades (tenancy.models.School.password_style_for); a pupil's
grade is the grade of their current class. Every style ends as an ordinary password string, hashed
with Argon2 like any other (accounts.hashers): what a pupil types or taps is first brought to one
canonical form (``normalise``), both when the password is made and at each login, so "さくら 47",
"サクラ４７" and "sakura47" are the same password, and so are the tapped pictures and their typed names.

The rate limits of the student login (settings.ACCOUNT_RATE_LIMITS, accounts.throttling) apply to
every style; SECURITY.md ("Pupil passwords") gives the guess space of each and what the limits make
of it.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from allauth.account.signals import password_changed, password_reset, password_set
from django.dispatch import receiver
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from classnote.accounts import wordlists
from classnote.tenancy.models import PasswordStyle

if TYPE_CHECKING:
    from classnote.accounts.models import User

PICTURES_IN_PASSWORD = 4
NUMBERS = range(10, 100)  # two digits: no leading zero to explain
RANDOM_LENGTH = 10
# No 0/O or 1/l/I: pupils copy these from paper.
RANDOM_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class Picture:
    key: str  # the word stored (hashed) for it; also its image, static/classnote/pictures/<key>.svg
    label: Promise  # its spoken-friendly name, translated (the image's alt text)
    aliases: tuple[str, ...] = ()  # other names a pupil may type for it (kanji, emoji)


# Twelve pictures, distinct in shape and colour, each a thing a six-year-old names at once.
PICTURES: tuple[Picture, ...] = (
    Picture("apple", _("apple"), ("林檎", "🍎")),
    Picture("sun", _("sun"), ("太陽", "☀")),
    Picture("moon", _("moon"), ("月", "🌙")),
    Picture("star", _("star"), ("星", "⭐")),
    Picture("fish", _("fish"), ("魚", "🐟")),
    Picture("cat", _("cat"), ("猫", "ねこ", "🐱")),
    Picture("tree", _("tree"), ("木", "🌳")),
    Picture("car", _("car"), ("車", "🚗")),
    Picture("flower", _("flower"), ("花", "🌷")),
    Picture("house", _("house"), ("家", "🏠")),
    Picture("umbrella", _("umbrella"), ("傘", "☂")),
    Picture("boat", _("boat"), ("船", "⛵")),
)
PICTURE_KEYS = tuple(picture.key for picture in PICTURES)
_PICTURE_BY_KEY = {picture.key: picture for picture in PICTURES}

# Guess spaces (SECURITY.md, tests/accounts/test_credentials.py).
WORD_COUNTS = {
    "ja": len(wordlists.JAPANESE),
    "zh-hant": len(wordlists.TRADITIONAL_CHINESE),
    "en": len(wordlists.ENGLISH),
}


def guess_space(style: str, language: str = "en") -> int:
    if style == PasswordStyle.PICTURES:
        return len(PICTURES) ** PICTURES_IN_PASSWORD
    if style == PasswordStyle.WORD_NUMBER:
        return WORD_COUNTS.get(language, WORD_COUNTS["en"]) * len(NUMBERS)
    return len(RANDOM_ALPHABET) ** RANDOM_LENGTH


def generate(style: str, language: str = "en") -> str:
    """A new password of STYLE, in the form printed for the pupil (pictures: their keys, spaced)."""
    if style == PasswordStyle.PICTURES:
        return " ".join(secrets.choice(PICTURE_KEYS) for _ in range(PICTURES_IN_PASSWORD))
    if style == PasswordStyle.WORD_NUMBER:
        return f"{secrets.choice(_words(language))} {secrets.choice(NUMBERS)}"
    return "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(RANDOM_LENGTH))


def _words(language: str) -> tuple[str, ...]:
    if language == "ja":
        return tuple(kana for kana, _romaji in wordlists.JAPANESE)
    if language == "zh-hant":
        return wordlists.TRADITIONAL_CHINESE
    return wordlists.ENGLISH


# --- Normalisation: what was typed or tapped -> the one form that is hashed ----------------------

_SEPARATORS = re.compile(r"[\s,、，・/\-→>＿_.。]+")


def _fold(text: str) -> str:
    """NFKC (full-width digits and letters, half-width kana), case folded, katakana as hiragana."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def _romaji_variants(romaji: str) -> set[str]:
    """Hepburn and the Kunrei spellings a pupil learns at school (shi/si, chi/ti, tsu/tu, fu/hu, ji/zi)."""
    variants = {romaji}
    for hepburn, kunrei in (("shi", "si"), ("chi", "ti"), ("tsu", "tu"), ("fu", "hu"), ("ji", "zi"), ("sha", "sya")):
        variants |= {v.replace(hepburn, kunrei) for v in variants}
    return variants


_KANA_OF_ROMAJI = {variant: kana for kana, romaji in wordlists.JAPANESE for variant in _romaji_variants(romaji)}


def _picture_names() -> dict[str, str]:
    """Every name of every picture, in every language of the service, to its key."""
    names: dict[str, str] = {}
    for language in ("en", "ja", "zh-hant"):
        with translation.override(language):
            for picture in PICTURES:
                names[_fold(str(picture.label))] = picture.key
    for picture in PICTURES:
        names[picture.key] = picture.key
        for alias in picture.aliases:
            names[_fold(alias)] = picture.key
    return names


_picture_name_cache: dict[str, str] = {}


def _picture_key(token: str) -> str:
    if not _picture_name_cache:
        _picture_name_cache.update(_picture_names())
    return _picture_name_cache.get(token, token)


def normalise(style: str, typed: str) -> str:
    """The canonical form of a password of STYLE as typed or tapped; "" style: exactly as typed."""
    if style == PasswordStyle.PICTURES:
        tokens = [t for t in _SEPARATORS.split(_fold(typed)) if t]
        return "-".join(_picture_key(token) for token in tokens)
    if style == PasswordStyle.WORD_NUMBER:
        folded = "".join(c for c in _fold(typed) if not _SEPARATORS.match(c))
        match = re.fullmatch(r"(\D+)(\d+)", folded)
        if match and match.group(1) in _KANA_OF_ROMAJI:
            return _KANA_OF_ROMAJI[match.group(1)] + match.group(2)
        return folded
    if style == PasswordStyle.RANDOM:
        return "".join(c for c in _fold(typed) if not c.isspace())
    return typed


# --- Presentation: how a password is printed for its pupil --------------------------------------


def pictures_of(password: str) -> list[Picture]:
    """The pictures of a picture password, in order (for its printed slip or card)."""
    keys = normalise(PasswordStyle.PICTURES, password).split("-")
    return [_PICTURE_BY_KEY[key] for key in keys if key in _PICTURE_BY_KEY]


def romaji_of(password: str) -> str:
    """The Hepburn spelling of a Japanese word + number password ("" for other words)."""
    word, _space, number = password.partition(" ")
    for kana, romaji in wordlists.JAPANESE:
        if kana == word:
            return f"{romaji} {number}"
    return ""


@receiver([password_changed, password_set, password_reset])
def _chosen_by_holder(sender: object, user: User, **kwargs: object) -> None:
    """A password its holder chose (allauth's change page) is checked exactly as typed."""
    if user.password_style:
        type(user).objects.filter(pk=user.pk).update(password_style="")
        user.password_style = ""
