from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from warroom import configfile


class Command(BaseCommand):
    help = (
        "Apply a YAML file of teams, services, escalation policies and workflows (docs/apply.md): print the "
        "plan, one line per object, and change what differs, all in one transaction or nothing."
    )
    # A one-shot admin verb: the system checks (which import every URL and API schema, ~4 s) run when the
    # server starts and with `warroom check`.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The YAML file.")
        parser.add_argument("--dry-run", action="store_true", help="Print the plan and change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise CommandError(f"{path}: not UTF-8 text; nothing was applied") from None
        except OSError as exc:
            raise CommandError(
                f"{path}: cannot read it ({exc.strerror or exc}); nothing was applied"
            ) from None
        try:
            plan = configfile.apply_text(text, dry_run=options["dry_run"])
        except configfile.ApplyFailed as exc:
            for error in exc.errors:
                self.stderr.write(f"error: {error}")
            count = len(exc.errors)
            raise CommandError(
                f"{path}: {count} error{'' if count == 1 else 's'}; nothing was applied"
            ) from None
        for line in plan.lines:
            self.stdout.write(line)
        self.stderr.write(configfile.summary(plan))
