"""Patch deadlines: which installed packages a vulnerability feed says are affected, and by when
each must be patched — 7 days for critical and high ("urgent"), 30 days for the rest.

Feeds (detected by shape, see `parse`):

* **OSV** (https://ossf.github.io/osv-schema/): one record, a list of records, an OSV `query` answer
  (`{"vulns": [...]}`) or a `querybatch` answer (`{"results": [{"vulns": [...]}]}`; its records must
  be full ones — a querybatch answer that holds only ids and dates cannot be evaluated and is refused).
  Only `affected[]` entries of the PyPI ecosystem count. Ranges of type ECOSYSTEM (and SEMVER) are
  evaluated with `packaging.version` as the OSV schema says: events sorted by version, `introduced`
  opens, `fixed` closes before, `last_affected` closes after; `introduced: "0"` is the beginning;
  explicit `versions` lists count too. GIT ranges are skipped (they name commits, not releases).
  Withdrawn records are skipped.
* **pip-audit** (`pip-audit -f json`): `{"dependencies": [{"name", "version", "vulns": [...]}]}`.
  It names the audited version, not a range: the audited version and every later one before the
  next fixed version count as affected. It carries no severity and no dates (see below).

Severity: the most severe of the record's `database_specific.severity` (GitHub's LOW / MODERATE /
HIGH / CRITICAL), the `affected[]` entry's `database_specific` / `ecosystem_specific` severity, and
the base scores of its `severity[]` CVSS vectors (v2, v3.0, v3.1 and v4.0, computed by the `cvss`
library; v3/v4 buckets: 9.0+ critical, 7.0+ high, 4.0+ medium, else low). Advisories that name the
same vulnerability (shared id or alias, e.g. a PYSEC and a GHSA record of one CVE, or a pip-audit
entry and an OSV record given together) are merged into one finding, which takes the most severe
rating and the earliest date of them. Without any rating the severity is "unknown", which takes the
30-day path.

The day counted from: the record's `published` date — the day the advisory that names the fixed
version was published (for PyPI advisories that is the day of the fixed release or, for records
converted from the NVD, a little later). `modified` is not used: every edit of a record changes it
and would move deadlines. A finding without a published date (pip-audit) is counted from the day it
was first seen: `first_seen` carries that from one stored report to the next (classnote.security.
models), else it is today. A finding without a fixed version newer than the installed one has no
deadline ("no fix yet") and is listed all the same.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from packaging.version import InvalidVersion, Version

from classnote.privacy import egress

URGENT_DAYS = 7
ROUTINE_DAYS = 30
MAX_FEED_BYTES = 64 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 30


class FeedError(Exception):
    """A feed that cannot be read or understood; the message says which and why (no traceback)."""


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def urgent(self) -> bool:
        return self in (Severity.CRITICAL, Severity.HIGH)


_RANK = {Severity.UNKNOWN: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}
_LABELS = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "important": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "negligible": Severity.LOW,
}


def canonical_name(name: str) -> str:
    """PEP 503: Django, django_ninja and Django.Ninja are one package."""
    return re.sub(r"[-_.]+", "-", name).lower().strip()


def _version(text: Any) -> Version | None:
    try:
        return Version(str(text))
    except (InvalidVersion, TypeError):
        return None


# --- Severity -------------------------------------------------------------------------------------


def bucket(score: float | Decimal, *, cvss2: bool = False) -> Severity:
    """The qualitative rating of a CVSS base score (v3/v4 scale; v2 has no "critical")."""
    value = float(score)
    if value >= 9.0 and not cvss2:
        return Severity.CRITICAL
    if value >= 7.0:
        return Severity.HIGH
    if value >= 4.0:
        return Severity.MEDIUM
    return Severity.LOW


def cvss_score(kind: str, vector: str) -> tuple[float, Severity] | None:
    """Base score and rating of one OSV `severity[]` entry; None for a type or vector we cannot score."""
    from cvss import CVSS2, CVSS3, CVSS4
    from cvss.exceptions import CVSSError

    kind = (kind or "").upper()
    try:
        if kind == "CVSS_V4" or vector.startswith("CVSS:4."):
            score = CVSS4(vector).base_score
        elif kind == "CVSS_V3" or vector.startswith("CVSS:3."):
            score = CVSS3(vector).base_score
        elif kind == "CVSS_V2":
            score = CVSS2(vector).base_score
            return float(score), bucket(score, cvss2=True)
        else:
            return None
    except (CVSSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return float(score), bucket(score)


def label_severity(value: Any) -> Severity | None:
    if isinstance(value, str):
        return _LABELS.get(value.strip().lower())
    return None


# --- Advisories -----------------------------------------------------------------------------------


@dataclass
class Range:
    """One OSV range (ECOSYSTEM/SEMVER) as (kind, version) events; kind is introduced/fixed/last_affected."""

    events: list[tuple[str, Version | None]]  # None: introduced "0", the beginning

    def affects(self, installed: Version) -> bool:
        def key(event: tuple[str, Version | None]) -> tuple[int, Version | str, int]:
            kind, version = event
            # "0" sorts first; at one version, a closing event comes before an opening one.
            return (0, "", 0) if version is None else (1, version, 1 if kind == "introduced" else 0)

        affected = False
        for kind, version in sorted(self.events, key=key):
            if kind == "introduced":
                if version is None or installed >= version:
                    affected = True
            elif kind == "fixed":
                if version is not None and installed >= version:
                    affected = False
            elif kind == "last_affected" and version is not None and installed > version:
                affected = False
        return affected

    def fixed(self) -> list[Version]:
        return [version for kind, version in self.events if kind == "fixed" and version is not None]


@dataclass
class Advisory:
    """What one feed record says about one package."""

    id: str
    package: str  # canonical name
    aliases: list[str] = field(default_factory=list)
    summary: str = ""
    ranges: list[Range] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    fixed: list[Version] = field(default_factory=list)
    severity: Severity = Severity.UNKNOWN
    score: float | None = None
    published: date | None = None
    source: str = ""

    def names(self) -> set[str]:
        return {self.id, *self.aliases}

    def affects(self, installed: str) -> bool:
        if installed in self.versions:
            return True
        parsed = _version(installed)
        if parsed is None:
            return False
        if any(_version(v) == parsed for v in self.versions):
            return True
        return any(r.affects(parsed) for r in self.ranges)

    def fixes_after(self, installed: str) -> list[Version]:
        parsed = _version(installed)
        found = set(self.fixed)
        for r in self.ranges:
            found.update(r.fixed())
        return sorted(v for v in found if parsed is None or v > parsed)


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None


def _rate(record: Mapping[str, Any], affected: Mapping[str, Any]) -> tuple[Severity, float | None]:
    ratings: list[tuple[Severity, float | None]] = []
    for holder in (
        record.get("database_specific"),
        affected.get("database_specific"),
        affected.get("ecosystem_specific"),
    ):
        if isinstance(holder, Mapping):
            label = label_severity(holder.get("severity"))
            if label is not None:
                ratings.append((label, None))
    for entry in [*_list(record.get("severity")), *_list(affected.get("severity"))]:
        if isinstance(entry, Mapping) and isinstance(entry.get("score"), str):
            scored = cvss_score(str(entry.get("type", "")), entry["score"])
            if scored is not None:
                ratings.append((scored[1], scored[0]))
    if not ratings:
        return Severity.UNKNOWN, None
    worst = max(rating.rank for rating, _ in ratings)
    scores = [score for rating, score in ratings if score is not None]
    return next(rating for rating, _ in ratings if rating.rank == worst), (max(scores) if scores else None)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _osv_advisories(record: Mapping[str, Any], source: str) -> list[Advisory]:
    if not isinstance(record.get("id"), str) or not record["id"]:
        raise FeedError(f"{source}: an OSV record without an id")
    if record.get("withdrawn"):
        return []
    found = []
    for affected in _list(record.get("affected")):
        if not isinstance(affected, Mapping):
            continue
        package = affected.get("package")
        if not isinstance(package, Mapping) or str(package.get("ecosystem", "")).split(":")[0] != "PyPI":
            continue
        if not isinstance(package.get("name"), str):
            continue
        ranges = []
        for raw in _list(affected.get("ranges")):
            if not isinstance(raw, Mapping) or raw.get("type") not in ("ECOSYSTEM", "SEMVER"):
                continue  # GIT ranges name commits, not releases
            events: list[tuple[str, Version | None]] = []
            for event in _list(raw.get("events")):
                if not isinstance(event, Mapping):
                    continue
                for kind in ("introduced", "fixed", "last_affected"):
                    if kind in event:
                        text = str(event[kind])
                        version = None if (kind == "introduced" and text == "0") else _version(text)
                        if version is not None or text == "0":
                            events.append((kind, version))
            if events:
                ranges.append(Range(events))
        severity, score = _rate(record, affected)
        found.append(
            Advisory(
                id=record["id"],
                package=canonical_name(package["name"]),
                aliases=[a for a in _list(record.get("aliases")) if isinstance(a, str)],
                summary=str(record.get("summary") or record.get("details") or "")[:300],
                ranges=ranges,
                versions=[str(v) for v in _list(affected.get("versions"))],
                severity=severity,
                score=score,
                published=_day(record.get("published")),
                source=source,
            )
        )
    return found


def _pip_audit_advisories(data: Mapping[str, Any], source: str) -> list[Advisory]:
    found = []
    for dependency in _list(data.get("dependencies")):
        if not isinstance(dependency, Mapping) or not isinstance(dependency.get("name"), str):
            raise FeedError(f"{source}: a pip-audit dependency without a name")
        audited = str(dependency.get("version", ""))
        for vuln in _list(dependency.get("vulns")):
            if not isinstance(vuln, Mapping) or not isinstance(vuln.get("id"), str):
                raise FeedError(f"{source}: a pip-audit vulnerability without an id")
            fixes = sorted(v for v in (_version(f) for f in _list(vuln.get("fix_versions"))) if v is not None)
            start = _version(audited)
            ranges = []
            if start is not None:
                # The audited version is affected; so is every later one before the next fix.
                later = [v for v in fixes if v > start]
                ranges.append(Range([("introduced", start), *([("fixed", later[0])] if later else [])]))
            found.append(
                Advisory(
                    id=vuln["id"],
                    package=canonical_name(dependency["name"]),
                    aliases=[a for a in _list(vuln.get("aliases")) if isinstance(a, str)],
                    summary=str(vuln.get("description") or "")[:300],
                    ranges=ranges,
                    versions=[audited] if audited else [],
                    fixed=fixes,
                    source=source,
                )
            )
    return found


def parse(data: Any, source: str = "feed") -> list[Advisory]:
    """Advisories from a decoded feed of any supported shape (FeedError for an unknown one)."""
    if isinstance(data, Mapping) and isinstance(data.get("dependencies"), list):
        return _pip_audit_advisories(data, source)
    records: list[Any]
    if isinstance(data, list):
        records = data
    elif isinstance(data, Mapping) and isinstance(data.get("results"), list):
        records = [v for result in data["results"] if isinstance(result, Mapping) for v in _list(result.get("vulns"))]
    elif isinstance(data, Mapping) and isinstance(data.get("vulns"), list):
        records = data["vulns"]
    elif isinstance(data, Mapping) and "id" in data:
        records = [data]
    else:
        raise FeedError(f"{source}: not an OSV record, list of records or query answer, nor pip-audit JSON output")
    found: list[Advisory] = []
    usable = 0
    for record in records:
        if not isinstance(record, Mapping):
            raise FeedError(f"{source}: an entry that is not an OSV record")
        if "affected" in record or record.get("withdrawn"):
            usable += 1
        found += _osv_advisories(record, source)
    if records and not usable:
        raise FeedError(
            f"{source}: the records name no affected packages (a querybatch answer holds only ids: "
            "fetch the full records, /v1/vulns/<id>)"
        )
    return found


# --- Reading a feed -------------------------------------------------------------------------------


def display(source: str) -> str:
    """A feed's name fit for a page, a log or an error: a URL without credentials or query."""
    parts = urlsplit(source)
    if parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        netloc = host if parts.port is None else f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return source


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


def read(source: str) -> Any:
    """The decoded JSON of a feed: a file, a directory of OSV record files, or an http(s) URL
    fetched through the egress guard."""
    name = display(source)
    if is_url(source):
        return _decode(_fetch(source, name), name)
    if "://" in source:
        raise FeedError(f"{name}: only file paths and http(s) URLs can be read")
    path = Path(source)
    if path.is_dir():
        # An unpacked OSV export (e.g. osv.dev's PyPI/all.zip): one record per .json file.
        files = sorted(path.glob("*.json"))
        if not files:
            raise FeedError(f"{name}: a directory without .json files")
        return [_decode(_read_file(file, str(file)), str(file)) for file in files]
    return _decode(_read_file(path, name), name)


def _read_file(path: Path, name: str) -> bytes:
    try:
        if path.stat().st_size > MAX_FEED_BYTES:
            raise FeedError(f"{name}: larger than {MAX_FEED_BYTES // (1024 * 1024)} MiB")
        return path.read_bytes()
    except FeedError:
        raise
    except OSError as error:
        raise FeedError(f"{name}: cannot be read ({error.strerror or error})") from None


def _decode(raw: bytes, name: str) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise FeedError(f"{name}: not valid JSON ({error})") from None


def _fetch(url: str, name: str) -> bytes:
    host = urlsplit(url).hostname or ""
    try:
        egress.check(host)  # before any lookup; the guard also watches every socket the fetch opens
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - scheme checked: http(s) only
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 - same
            raw = response.read(MAX_FEED_BYTES + 1)
    except egress.EgressRefused:
        raise FeedError(
            f"{name}: refused by the egress guard: {host} is not a declared host. Pass a file, or declare "
            "the feed's host in OPERATOR_HOSTS (see docs/configuration.md)"
        ) from None
    except urllib.error.HTTPError as error:
        raise FeedError(f"{name}: the server answered {error.code}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise FeedError(f"{name}: cannot be fetched ({reason})") from None
    if len(raw) > MAX_FEED_BYTES:
        raise FeedError(f"{name}: larger than {MAX_FEED_BYTES // (1024 * 1024)} MiB")
    return raw


def load(sources: Iterable[str]) -> list[Advisory]:
    found: list[Advisory] = []
    for source in sources:
        found += parse(read(source), display(source))
    return found


# --- Installed packages ---------------------------------------------------------------------------


def installed_packages() -> dict[str, str]:
    """Canonical name → version of every distribution in the running environment."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            found.setdefault(canonical_name(name), dist.version)
    return found


def read_installed(path: Path) -> dict[str, str]:
    """`name==version` lines (a requirements file such as `uv export` writes); anything else is skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FeedError(f"{path}: cannot be read ({getattr(error, 'strerror', None) or error})") from None
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s\\]+)", line)
        if match:
            found[canonical_name(match.group(1))] = match.group(2)
    return found


# --- The report -----------------------------------------------------------------------------------


@dataclass
class Finding:
    package: str
    installed: str
    advisory: str
    aliases: list[str]
    summary: str
    severity: Severity
    score: float | None
    fixed: list[str]
    published: date | None
    first_seen: date  # the first report that listed it (today, without history)
    counted_from: date | None
    counted_from_source: str  # "published", "first_seen" or "" (no fix yet)
    deadline: date | None
    overdue: bool
    days_left: int | None

    @property
    def key(self) -> str:
        return f"{self.package}:{self.advisory}"

    @property
    def urgent(self) -> bool:
        return self.severity.urgent

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["urgent"] = self.urgent
        for name in ("published", "first_seen", "counted_from", "deadline"):
            value = getattr(self, name)
            data[name] = value.isoformat() if value else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        values: dict[str, Any] = {name: data.get(name) for name in cls.__dataclass_fields__}
        values["severity"] = Severity(data.get("severity", "unknown"))
        for name in ("published", "first_seen", "counted_from", "deadline"):
            values[name] = date.fromisoformat(data[name]) if data.get(name) else None
        return cls(**values)


@dataclass
class Report:
    today: date
    feeds: list[str]
    packages: int
    findings: list[Finding]

    @property
    def overdue(self) -> list[Finding]:
        return [f for f in self.findings if f.overdue]

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "feeds": self.feeds,
            "packages_checked": self.packages,
            "affected": len(self.findings),
            "overdue": len(self.overdue),
            "findings": [f.as_dict() for f in self.findings],
        }


def _groups(advisories: list[Advisory]) -> list[list[Advisory]]:
    """Advisories of one package that share an id or alias, together."""
    groups: list[tuple[set[str], list[Advisory]]] = []
    for advisory in advisories:
        names = advisory.names()
        joined = [g for g in groups if g[0] & names]
        for group in joined:
            groups.remove(group)
            names |= group[0]
        members = [a for group in joined for a in group[1]] + [advisory]
        groups.append((names, members))
    return [members for _, members in groups]


def check(
    advisories: Iterable[Advisory],
    installed: Mapping[str, str],
    today: date,
    *,
    feeds: Iterable[str] = (),
    first_seen: Mapping[str, date] | Callable[[str], date | None] | None = None,
) -> Report:
    """Every installed package an advisory affects, with its severity, fix and deadline."""
    seen = first_seen.get if isinstance(first_seen, Mapping) else first_seen
    advisories = list(advisories)
    installed = {canonical_name(name): version for name, version in installed.items()}
    # What the whole feed knows of a vulnerability, by every id and alias: a record of it that
    # does not decide this package (pip-audit entries carry no rating and no date) still rates it.
    known: dict[str, list[Advisory]] = {}
    for advisory in advisories:
        for name in advisory.names():
            known.setdefault(name, []).append(advisory)
    by_package: dict[str, list[Advisory]] = {}
    for advisory in advisories:
        version = installed.get(advisory.package)
        if version is not None and advisory.affects(version):
            by_package.setdefault(advisory.package, []).append(advisory)
    findings = []
    for package, advisories_of in sorted(by_package.items()):
        version = installed[package]
        for group in _groups(advisories_of):
            first = group[0]
            names = set().union(*(a.names() for a in group))
            related = [a for name in sorted(names) for a in known.get(name, [])]
            worst = max(related, key=lambda a: a.severity.rank)
            scores = [a.score for a in related if a.score is not None]
            fixed = sorted({v for a in group for v in a.fixes_after(version)})
            published_days = [a.published for a in related if a.published]
            published = min(published_days) if published_days else None
            key = f"{package}:{first.id}"
            first_seen_day = min((seen(key) if seen else None) or today, today)
            counted_from, counted_source, deadline = None, "", None
            if fixed:
                if published is not None:
                    counted_from, counted_source = published, "published"
                else:
                    counted_from, counted_source = first_seen_day, "first_seen"
                deadline = counted_from + timedelta(days=URGENT_DAYS if worst.severity.urgent else ROUTINE_DAYS)
            findings.append(
                Finding(
                    package=package,
                    installed=version,
                    advisory=first.id,
                    aliases=sorted(names - {first.id}),
                    summary=next((a.summary for a in group if a.summary), ""),
                    severity=worst.severity,
                    score=max(scores) if scores else None,
                    fixed=[str(v) for v in fixed],
                    published=published,
                    first_seen=first_seen_day,
                    counted_from=counted_from,
                    counted_from_source=counted_source,
                    deadline=deadline,
                    overdue=deadline is not None and today > deadline,
                    days_left=(deadline - today).days if deadline else None,
                )
            )
    findings.sort(key=lambda f: (not f.overdue, f.deadline or date.max, -f.severity.rank, f.package, f.advisory))
    return Report(today=today, feeds=[display(f) for f in feeds], packages=len(installed), findings=findings)
