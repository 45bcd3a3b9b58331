"""`classnote serve`: migrate, (optionally) load demo data, and serve the whole product.

On the embedded default this one process holds everything: request/response on a
thread pool, event streams on the event loop, the in-process event bus and the
background-job consumer (huey, threads). Scale-out runs several of these behind a
proxy with REDIS_URL set (shared bus, cache and job queue) and `classnote worker`
for jobs (deploy/).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Migrate and serve classnote (one process: web, event streams and background jobs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--demo", action="store_true", help="create demo data on the first start")
        parser.add_argument("--no-migrate", action="store_true")
        parser.add_argument("--no-jobs", action="store_true", help="do not run the job consumer in this process")

    def handle(self, *args: Any, **options: Any) -> None:
        import uvicorn

        from classnote.privacy import egress

        # Before anything else: no outbound connection to a host outside the declared list.
        guarded = egress.install(extra_hosts=[options["host"]])
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        if settings.PRODUCTION:
            call_command("collectstatic", interactive=False, verbosity=0)
        logins = ""
        if options["demo"]:
            from classnote.demo.data import demo_exists
            from classnote.demo.management.commands.demo import format_logins, read_logins, write_logins

            if not demo_exists():
                from classnote.demo.data import create_demo

                write_logins(create_demo())
            logins = format_logins(read_logins())

        consumer = None
        if not options["no_jobs"] and not settings.REDIS_URL:
            consumer = self._start_jobs()

        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"\nclassnote is running at {url}"))
        self.stdout.write(f"  data directory: {settings.CLASSNOTE_HOME}")
        if logins:
            self.stdout.write("\nDemo logins (role, login, password, where):\n" + logins)
            self.stdout.write(
                "\n  Students log in at /login/student/ with school code + student ID + password."
                "\n  Administrators are asked to set up two-factor login (any authenticator app)"
                " at first login."
            )
        self.stdout.write("\nPress Ctrl+C to stop.\n")
        sys.stdout.flush()
        try:
            uvicorn.run(
                "classnote.asgi:application",
                host=options["host"],
                port=options["port"],
                proxy_headers=settings.ALLAUTH_TRUSTED_PROXY_COUNT > 0,
                forwarded_allow_ips="127.0.0.1" if settings.ALLAUTH_TRUSTED_PROXY_COUNT > 0 else None,
                server_header=False,
                # uvloop connects in libuv, past the audit hook: the guard's loop checks there too.
                loop="classnote.privacy.egress:event_loop" if guarded else "auto",
                log_level="warning",
                timeout_graceful_shutdown=5,
            )
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)

    @staticmethod
    def _start_jobs() -> Any:
        from huey.contrib.djhuey import HUEY

        consumer = HUEY.create_consumer(workers=2, worker_type="thread", periodic=True)
        consumer.start()
        return consumer
