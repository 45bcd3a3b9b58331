"""`classnote serve`: migrate, (optionally) load demo data, and serve the whole product.

On the embedded default this one process holds everything: request/response on a
thread pool, event streams on the event loop, the in-process event bus and the
background-job consumer (huey, threads). Scale-out runs several of these behind a
proxy with REDIS_URL set (shared bus, cache and job queue) and `classnote worker`
for jobs (deploy/).

TLS: behind a reverse proxy the proxy terminates TLS. Without one, `--certfile`/`--keyfile`
(TLS_CERT_FILE / TLS_KEY_FILE) make this process serve HTTPS itself (TLS 1.2 or newer), and
`--redirect-port` (HTTP_REDIRECT_PORT) adds a plain-HTTP listener that only redirects to HTTPS
(classnote.core.https_redirect).
"""

from __future__ import annotations

import argparse
import os
import resource
import ssl
import sys
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from classnote.core.https_redirect import redirect_app
from classnote.core.sqlite.base import serialize_writes
from classnote.demo.data import create_demo, demo_exists
from classnote.demo.management.commands.demo import format_logins, read_logins, write_logins
from classnote.privacy import egress


def raise_open_file_limit() -> int:
    """Raise this process's soft limit of open files to the hard limit (each event stream holds a
    socket); returns the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # keep the soft limit
    return soft if soft != resource.RLIM_INFINITY else 1 << 16


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (1-65535); see HTTP_REDIRECT_PORT")
    return int(value)


def tls_context(config: Any, default_factory: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """uvicorn's context (certificate and key loaded), refusing SSL 3, TLS 1.0 and TLS 1.1."""
    context = default_factory()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class Command(BaseCommand):
    help = "Migrate and serve classnote (one process: web, event streams and background jobs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--demo", action="store_true", help="create demo data on the first start")
        parser.add_argument("--no-migrate", action="store_true")
        parser.add_argument("--no-jobs", action="store_true", help="do not run the job consumer in this process")
        parser.add_argument(
            "--certfile",
            default=os.environ.get("TLS_CERT_FILE", ""),
            help="serve HTTPS with this PEM certificate chain (without a TLS-terminating proxy)",
        )
        parser.add_argument(
            "--keyfile", default=os.environ.get("TLS_KEY_FILE", ""), help="the PEM private key of --certfile"
        )
        parser.add_argument(
            "--redirect-port",
            type=_port,
            default=os.environ.get("HTTP_REDIRECT_PORT") or None,
            help="also listen for plain HTTP on this port, answering only with redirects to HTTPS",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        import uvicorn

        self._check_tls(options)

        # Before anything else: no outbound connection to a host outside the declared list.
        guarded = egress.install(extra_hosts=[options["host"]])
        if settings.DATABASES["default"]["ENGINE"] == "classnote.core.sqlite":
            serialize_writes()  # this process's writers queue on a lock, not in SQLite's busy sleeps
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        if settings.PRODUCTION:
            call_command("collectstatic", interactive=False, verbosity=0)
        logins = ""
        if options["demo"]:
            if not demo_exists():
                write_logins(create_demo())
            logins = format_logins(read_logins())

        consumer = None
        if not options["no_jobs"] and not settings.REDIS_URL:
            consumer = self._start_jobs()

        open_files = raise_open_file_limit()
        scheme = "https" if options["certfile"] else "http"
        url = f"{scheme}://{options['host']}:{options['port']}/"
        if not settings.STATUS_PROBE_URL and not settings.PRODUCTION:  # the status prober checks this process
            # (In production the public URL must be given: ALLOWED_HOSTS and TLS name the public host.)
            own = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(options["host"], options["host"])  # noqa: S104
            settings.STATUS_PROBE_URL = f"{scheme}://{own}:{options['port']}/"
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
        redirector = self._start_redirect(options) if options["redirect_port"] else None
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
                # Idle keep-alive longer than clients' own (browsers, httpx: 5 s and up): the client
                # closes first, so it never sends a request onto a connection the server is closing.
                timeout_keep_alive=65,
                # The last guard before the process runs out of descriptors: uvicorn answers 503 to
                # connections past this (event streams are refused earlier, realtime.capacity).
                limit_concurrency=max(open_files * 9 // 10 - 64, 64),
                **self._tls_options(options),
            )
        finally:
            if redirector is not None:
                redirector.should_exit = True
            if consumer is not None:
                consumer.stop(graceful=True)

    @staticmethod
    def _check_tls(options: dict[str, Any]) -> None:
        for option, variable in (("certfile", "TLS_CERT_FILE"), ("keyfile", "TLS_KEY_FILE")):
            path = options[option]
            if path and not os.access(path, os.R_OK):
                raise CommandError(f"--{option} / {variable}: {path!r} cannot be read.")
        if options["keyfile"] and not options["certfile"]:
            raise CommandError("--keyfile / TLS_KEY_FILE needs --certfile / TLS_CERT_FILE.")
        if options["redirect_port"] and not options["certfile"]:
            raise CommandError(
                "--redirect-port / HTTP_REDIRECT_PORT redirects to HTTPS: it needs --certfile / TLS_CERT_FILE."
            )
        if options["redirect_port"] == options["port"]:
            raise CommandError("--redirect-port / HTTP_REDIRECT_PORT must differ from --port.")

    @staticmethod
    def _tls_options(options: dict[str, Any]) -> dict[str, Any]:
        if not options["certfile"]:
            return {}
        return {
            "ssl_certfile": options["certfile"],
            "ssl_keyfile": options["keyfile"] or None,
            "ssl_context_factory": tls_context,
        }

    @staticmethod
    def _start_redirect(options: dict[str, Any]) -> Any:
        """The plain-HTTP listener in a thread of this process; its socket is bound here, so a port
        in use stops start-up instead of failing silently in the thread."""
        import uvicorn

        config = uvicorn.Config(
            redirect_app(options["port"], list(settings.ALLOWED_HOSTS)),
            host=options["host"],
            port=options["redirect_port"],
            loop="asyncio",
            lifespan="off",
            ws="none",
            server_header=False,
            access_log=False,
            log_level="warning",
            timeout_keep_alive=5,
            limit_concurrency=1000,
        )
        server = uvicorn.Server(config)
        sock = config.bind_socket()
        threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="https-redirect", daemon=True).start()
        return server

    @staticmethod
    def _start_jobs() -> Any:
        from django.utils.module_loading import autodiscover_modules
        from huey.contrib.djhuey import HUEY

        # Every app's tasks.py, as `run_huey` (classnote worker) loads them: without this the
        # consumer of the embedded default knew none of the periodic tasks.
        autodiscover_modules("tasks")
        consumer = HUEY.create_consumer(workers=2, worker_type="thread", periodic=True)
        consumer.start()
        return consumer
