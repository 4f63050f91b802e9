from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from granian import Granian
from granian.constants import Interfaces

from warroom.engine.loop import Engine


class Command(BaseCommand):
    help = "Migrate, then serve the web console and API with granian (WSGI) and run the engine in a thread."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument(
            "--demo", action="store_true", help="Seed the demo organisation if it is missing."
        )
        parser.add_argument("--no-engine", action="store_true", help="Do not run the engine in this process.")
        parser.add_argument("--no-migrate", action="store_true", help="Do not apply migrations first.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        if options["demo"]:
            call_command("warroom_demo", "--if-empty")
        if not options["no_engine"]:
            Engine(interval=settings.WARROOM_ENGINE_INTERVAL).start_thread()
        host, port = options["host"], options["port"]
        self.stdout.write(self.style.SUCCESS(f"Warroom is listening on http://{host}:{port}/"))
        self.stdout.write(
            f"Data directory: {settings.DATA_DIR}  Database: {settings.DATABASES['default']['ENGINE']}"
        )
        Granian(
            target="warroom.wsgi:application",
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=options["workers"],
            blocking_threads=8,
            log_access=False,
            websockets=False,
        ).serve()
