"""Client verbs: ``warroom incident ...`` against a Warroom server's REST API."""

from __future__ import annotations

import typer

incident_app = typer.Typer(help="Work with incidents on a Warroom server.", no_args_is_help=True)
