"""Is a service the tests need reachable? Used by `make test` to decide on the PostgreSQL leg.

Exit 0: reachable. Exit 3: not reachable, skip (a laptop without it). Exit 1: not reachable and CI=true.
"""

from __future__ import annotations

import os
import socket
import sys

SERVICES = {"postgres": ("127.0.0.1", 5432), "redis": ("127.0.0.1", 6379)}


def main() -> int:
    name = sys.argv[1]
    host, port = SERVICES[name]
    try:
        with socket.create_connection((host, port), timeout=2):
            return 0
    except OSError:
        if os.environ.get("CI") == "true":
            print(f"{name} is not reachable at {host}:{port}, and CI=true requires it.", file=sys.stderr)
            return 1
        print(f"{name} is not reachable at {host}:{port}: its test leg is skipped.", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
