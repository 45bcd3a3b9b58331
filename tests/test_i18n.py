"""Translations: Japanese and Traditional Chinese are complete, compiled and actually served.

To refresh the catalogs after strings were added or changed (gettext must be installed):

    cd src/classnote
    CLASSNOTE_HOME=../../var ../../.venv/bin/classnote makemessages -l ja -l zh_Hant \
        --ignore "*/migrations/*" --no-location
    # translate every new or changed entry in locale/*/LC_MESSAGES/django.po, drop "fuzzy" flags
    CLASSNOTE_HOME=../../var ../../.venv/bin/classnote compilemessages -l ja -l zh_Hant

and commit both the .po and the .mo files: the service reads the .mo files and needs no gettext.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.test import Client

import classnote
from classnote.accounts.models import User, student_username
from classnote.base.roles import Role
from classnote.tenancy.models import Country, Municipality, Region, School

PACKAGE_DIR = Path(classnote.__file__).resolve().parent
LOCALE_DIR = PACKAGE_DIR / "locale"
LOCALES = ["ja", "zh_Hant"]
# Both languages have a single plural form (gettext's and Django's own catalogs agree).
PLURAL_FORMS = {"ja": "nplurals=1; plural=0;", "zh_Hant": "nplurals=1; plural=0;"}
# The options the catalogs are made with (see the module docstring).
MAKEMESSAGES_OPTIONS = ["--ignore", "*/migrations/*", "--no-location"]
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib")

# printf-style conversion as Python's % operator reads it: %(name)s, %s, %5.2f, %%, ...
PYTHON_FORMAT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?P<type>[diouxXeEfFgGcrsa%])"
)

JAPANESE = "児童生徒ログイン"
TRADITIONAL_CHINESE = "學生登入"


def po_path(locale: str, domain: str = "django") -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def load_po(locale: str, domain: str = "django") -> polib.POFile:
    path = po_path(locale, domain)
    assert path.exists(), f"{path} is missing: run makemessages (see the docstring of {__name__})"
    return polib.pofile(str(path))


def entry_key(entry: polib.POEntry | polib.MOEntry) -> tuple[str | None, str, str | None]:
    return (entry.msgctxt or None, entry.msgid, entry.msgid_plural or None)


def translations(entry: polib.POEntry | polib.MOEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def placeholders(text: str) -> tuple[Counter[str], list[str]]:
    """Named placeholders (as a multiset) and positional ones (in order), without %%."""
    named: Counter[str] = Counter()
    positional: list[str] = []
    for match in PYTHON_FORMAT.finditer(text):
        if match["type"] == "%":
            continue
        if match["name"] is not None:
            named[match["name"]] += 1
        else:
            positional.append(match["type"])
    return named, positional


# --- a. Every entry is translated, none fuzzy, placeholders intact ---------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_po_header(locale: str) -> None:
    po = load_po(locale)
    assert not po.metadata_is_fuzzy, f"{locale}: the header is marked fuzzy"
    assert po.metadata.get("Language") == locale
    assert "charset=UTF-8" in po.metadata.get("Content-Type", ""), f"{locale}: Content-Type must be UTF-8"
    assert po.metadata.get("Plural-Forms") == PLURAL_FORMS[locale]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_entry_is_translated(locale: str) -> None:
    po = load_po(locale)
    nplurals = int(re.search(r"nplurals\s*=\s*(\d+)", po.metadata["Plural-Forms"])[1])
    active = [entry for entry in po if not entry.obsolete]
    assert active, f"{locale}: the catalog is empty"
    fuzzy = [entry.msgid for entry in active if "fuzzy" in entry.flags]
    assert not fuzzy, f"{locale}: fuzzy entries (check the translation, then remove the flag): {fuzzy}"
    untranslated = [entry.msgid for entry in active if not all(s.strip() for s in translations(entry))]
    assert not untranslated, f"{locale}: untranslated entries: {untranslated}"
    wrong_plurals = [entry.msgid for entry in active if entry.msgid_plural and len(entry.msgstr_plural) != nplurals]
    assert not wrong_plurals, f"{locale}: plural entries need exactly {nplurals} form(s): {wrong_plurals}"


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_match(locale: str) -> None:
    problems = []
    for entry in load_po(locale):
        if entry.obsolete:
            continue
        python_format = "python-format" in entry.flags
        sources = [entry.msgid] if not entry.msgid_plural else [entry.msgid, entry.msgid_plural]
        expected_named, expected_positional = placeholders(sources[-1])
        if entry.msgid_plural:
            # The singular may leave out the number ("one card"), never a name.
            expected_named |= placeholders(entry.msgid)[0]
        for msgstr in translations(entry):
            named, positional = placeholders(msgstr)
            if set(named) != set(expected_named):
                problems.append((entry.msgid, msgstr, "named placeholders differ"))
            elif python_format and positional != expected_positional:
                problems.append((entry.msgid, msgstr, "positional placeholders differ"))
    assert not problems, f"{locale}: placeholders of msgid and msgstr differ: {problems}"


# --- b. The committed .mo is the compiled .po ------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_mo_matches_po(locale: str) -> None:
    po = load_po(locale)
    mo_path = po_path(locale).with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run compilemessages (see the docstring of {__name__})"
    mo = polib.mofile(str(mo_path))
    compiled = {entry_key(e): tuple(translations(e)) for e in mo if e.msgid}
    source = {
        entry_key(e): tuple(translations(e))
        for e in po
        if e.msgid and not e.obsolete and "fuzzy" not in e.flags and all(translations(e))
    }
    missing = sorted(set(source.items()) - set(compiled.items()))
    stale = sorted(set(compiled.items()) - set(source.items()))
    assert not missing and not stale, (
        f"{mo_path} is out of date: run compilemessages. In .po only: {missing}; in .mo only: {stale}"
    )
    assert mo.metadata.get("Plural-Forms") == po.metadata.get("Plural-Forms")
    assert "charset=UTF-8" in mo.metadata.get("Content-Type", "")


# --- c. The .po knows every string of the source ---------------------------------------------------


def require_gettext() -> None:
    missing = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    message = f"GNU gettext is not installed ({', '.join(missing)} not found)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}, and CI=true requires it to check that the catalogs are complete")
    pytest.skip(f"{message}; install it (e.g. apt-get install gettext) to check that the catalogs are complete")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Runs makemessages over a copy of the package, with an empty locale directory.

    The copy is imported instead of the real package (PYTHONPATH), so its LOCALE_PATHS point
    into the copy and the committed catalogs are never touched.
    """
    require_gettext()  # also here, for anyone who uses the fixture directly
    root = tmp_path_factory.mktemp("makemessages")
    copy = root / "src" / "classnote"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "locale", "var"))
    (copy / "locale").mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(root / "src"),
        "DJANGO_SETTINGS_MODULE": "classnote.settings",
        "CLASSNOTE_ENV": "test",
        "CLASSNOTE_HOME": str(root / "home"),
    }
    for domain in ("django", "djangojs"):
        args = [sys.executable, "-m", "django", "makemessages", "-d", domain, *MAKEMESSAGES_OPTIONS]
        for locale in LOCALES:
            args += ["-l", locale]
        result = subprocess.run(args, cwd=copy, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"makemessages -d {domain} failed:\n{result.stdout}\n{result.stderr}"
    return copy / "locale"


@pytest.mark.parametrize("domain", ["django", "djangojs"])
@pytest.mark.parametrize("locale", LOCALES)
def test_po_is_complete(request: pytest.FixtureRequest, locale: str, domain: str) -> None:
    require_gettext()  # skip, or under CI=true fail, before the fixture needs the tools
    extracted: Path = request.getfixturevalue("extracted")
    fresh_path = extracted / locale / "LC_MESSAGES" / f"{domain}.po"
    fresh = {entry_key(e) for e in polib.pofile(str(fresh_path)) if e.msgid} if fresh_path.exists() else set()
    if not fresh:
        return  # nothing to translate in this domain (e.g. no gettext() in the JavaScript)
    committed = {entry_key(e) for e in load_po(locale, domain) if e.msgid and not e.obsolete}
    missing = sorted(fresh - committed, key=str)
    assert not missing, (
        f"{po_path(locale, domain)} lacks {len(missing)} string(s) of the source: run makemessages, "
        f"translate and compilemessages (see the docstring of {__name__}). Missing: {missing}"
    )


# --- d. Pages are served in the right language -----------------------------------------------------


def make_student(language: str = "", tenant_language: str = "en") -> User:
    country, _ = Country.objects.get_or_create(code="JP", defaults={"name": "Japan"})
    region, _ = Region.objects.get_or_create(country=country, name="i18n region")
    municipality = Municipality.objects.create(
        region=region, name=f"i18n board {Municipality.objects.count()}", default_language=tenant_language
    )
    school = School.objects.create(municipality=municipality, name="i18n school", code=f"i18n-{municipality.pk}")
    return User.objects.create_user(
        student_username(school, "i18n001"),
        "i18n-password-1234",
        display_name="i18n pupil",
        role=Role.STUDENT,
        municipality=municipality,
        school=school,
        student_number="i18n001",
        language=language,
    )


def sign_in(client: Client, user: User) -> None:
    client.force_login(user, backend="classnote.accounts.backends.StudentBackend")


@pytest.mark.parametrize(
    ("accept_language", "expected", "content_language"),
    [
        ("ja", JAPANESE, "ja"),
        ("ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7", JAPANESE, "ja"),
        ("zh-Hant", TRADITIONAL_CHINESE, "zh-hant"),
        ("zh-TW", TRADITIONAL_CHINESE, "zh-hant"),  # browsers in Taiwan
        ("zh-HK", TRADITIONAL_CHINESE, "zh-hant"),  # browsers in Hong Kong
        ("zh-Hant-TW,zh;q=0.9", TRADITIONAL_CHINESE, "zh-hant"),
        ("en-US,en;q=0.9", "Student login", "en"),
    ],
)
def test_student_login_follows_accept_language(
    client: Client, db: None, accept_language: str, expected: str, content_language: str
) -> None:
    response = client.get("/login/student/", HTTP_ACCEPT_LANGUAGE=accept_language)
    assert response.status_code == 200
    html = response.content.decode()
    assert expected in html
    assert f'<html lang="{content_language}">' in html
    assert response["Content-Language"] == content_language
    assert "Accept-Language" in response["Vary"]


@pytest.mark.parametrize(
    ("user_language", "accept_language", "expected"),
    [
        ("zh-hant", "ja", TRADITIONAL_CHINESE),
        ("ja", "zh-TW", JAPANESE),
        ("en", "ja", "Student login"),
    ],
)
def test_users_own_language_wins(
    client: Client, db: None, user_language: str, accept_language: str, expected: str
) -> None:
    # The tenant's default differs too: the user's own choice comes first.
    other = {"zh-hant": "ja", "ja": "zh-hant", "en": "ja"}[user_language]
    sign_in(client, make_student(language=user_language, tenant_language=other))
    response = client.get("/login/student/", HTTP_ACCEPT_LANGUAGE=accept_language)
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert response["Content-Language"] == user_language


def test_tenant_default_comes_before_accept_language(client: Client, db: None) -> None:
    sign_in(client, make_student(language="", tenant_language="zh-hant"))
    response = client.get("/login/student/", HTTP_ACCEPT_LANGUAGE="ja")
    assert TRADITIONAL_CHINESE in response.content.decode()


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [("ja", "ユーザー名"), ("zh-TW", "使用者名稱")],  # allauth's own catalogs
)
def test_staff_login_of_allauth_is_translated(client: Client, db: None, accept_language: str, expected: str) -> None:
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=accept_language)
    assert response.status_code == 200
    assert expected in response.content.decode()
