"""`classnote egress hosts | check HOST [--port N]`: the outbound hosts the service may reach.

`hosts` lists what the egress guard allows (besides this machine): configured backends, the
operator's hosts and the sub-processors' hosts. `check` tries to connect to HOST:PORT under the same
guard `classnote serve` installs, so an operator can see whether a host is declared before relying
on it. Exit status 1 when the guard refuses.
"""

from __future__ import annotations

import socket
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from classnote.privacy import egress, hosts


class Command(BaseCommand):
    help = "Outbound connections: list the hosts the egress guard allows, or check one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["hosts", "check"])
        parser.add_argument("host", nargs="?", help="check: the host name or address to try")
        parser.add_argument("--port", type=int, default=443)
        parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the connection")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "hosts":
            self._hosts()
            return
        host = options["host"]
        if not host:
            raise CommandError("Name the host to check: classnote egress check HOST [--port N].")
        if not egress.install():
            raise CommandError("The egress guard is off (EGRESS_GUARD=false): every host is reachable.")
        try:
            with socket.create_connection((host, options["port"]), timeout=options["timeout"]):
                pass
        except egress.EgressRefused:
            raise CommandError(f"refused: {hosts.normalise(host)} is not a declared host.") from None
        except OSError as exc:
            self.stdout.write(f"allowed: the guard lets {host} through; the connection failed ({exc}).")
            return
        self.stdout.write(f"allowed: connected to {host}:{options['port']}.")

    def _hosts(self) -> None:
        for variable, host in hosts.backend_hosts(lambda name, default: getattr(settings, name, default)):
            where = "this machine" if hosts.is_local(host) else "configured backend"
            self.stdout.write(f"{host}\t{where} ({variable})")
        for pattern in settings.CLASSNOTE_OPERATOR_HOSTS:
            self.stdout.write(f"{pattern.text}\toperator's own host (OPERATOR_HOSTS)")
        for sub in settings.CLASSNOTE_SUBPROCESSORS:
            for pattern in sub.hosts:
                self.stdout.write(f"{pattern.text}\tsub-processor {sub.name} (SUBPROCESSORS)")
        state = "on" if settings.CLASSNOTE_EGRESS_GUARD else "OFF (EGRESS_GUARD=false)"
        self.stdout.write(f"Loopback and localhost are always allowed. The egress guard is {state}.")
