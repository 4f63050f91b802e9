from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections
from granian import Granian
from granian.constants import Interfaces

from warroom.alerts import ratelimit
from warroom.config import listen_url


class Command(BaseCommand):
    help = "Migrate, then serve the console and API with granian (WSGI), with the engine beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument(
            "--demo", action="store_true", help="Seed the demo organisation if it is missing."
        )
        parser.add_argument(
            "--no-engine", action="store_true", help="Do not run the engine beside the server."
        )
        parser.add_argument("--no-migrate", action="store_true", help="Do not apply migrations first.")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        url = listen_url(host, port)
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        if options["demo"]:
            call_command("warroom_demo", "--if-empty", "--url", url)
        # granian forks its workers: they must not inherit open database connections or running threads
        # (a lock held by a thread at fork time stays held forever in the child). So the engine runs as a
        # child process of its own, started from a clean interpreter.
        connections.close_all()
        # The web workers share the intake rate limits through a file in the data directory (one bucket per key
        # for all of them, and for any other server of this host on the same data directory).
        os.environ.setdefault(ratelimit.TABLE_ENV, str(Path(settings.DATA_DIR) / ratelimit.TABLE_FILE))
        engine = None
        if not options["no_engine"]:
            engine = subprocess.Popen([sys.executable, "-m", "warroom.cli.main", "engine"])
        self.stdout.write(self.style.SUCCESS(f"Warroom is listening on {url}/"))
        self.stdout.write(
            f"Data directory: {settings.DATA_DIR}  Database: {settings.DATABASES['default']['ENGINE']}"
        )
        # Threads per worker: enough to overlap database waits, few enough not to fight over the GIL.
        threads = min(8, (os.cpu_count() or 1) * 2 + 1)
        try:
            Granian(
                target="warroom.wsgi:application",
                address=host,
                port=port,
                interface=Interfaces.WSGI,
                workers=options["workers"],
                blocking_threads=threads,
                log_access=False,
                websockets=False,
            ).serve()
        finally:
            if engine is not None:
                engine.terminate()
                try:
                    engine.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    engine.kill()
