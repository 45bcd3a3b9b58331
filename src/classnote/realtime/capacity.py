"""How close this process is to its limit of open files.

Every open event stream holds a socket, and a process out of file descriptors fails everything else
too (SQLite answers "unable to open database file"). A new stream is refused with 503 and
Retry-After once the process holds REALTIME_FD_HIGH_WATER percent of its soft limit
(RLIMIT_NOFILE), which leaves the rest for requests, database files and logs. `classnote serve`
raises the soft limit to the hard one at start (classnote.core.management.commands.serve).
"""

from __future__ import annotations

import os
import resource

from django.conf import settings

_FD_DIR = "/proc/self/fd"


def open_files() -> int | None:
    """The file descriptors this process holds, or None where the system does not say (not Linux)."""
    try:
        return len(os.listdir(_FD_DIR))
    except OSError:
        return None


def fd_limit() -> int:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def crowded() -> bool:
    """Whether the process is too near its file-descriptor limit to take another stream."""
    held = open_files()
    return held is not None and held * 100 >= fd_limit() * settings.REALTIME_FD_HIGH_WATER
