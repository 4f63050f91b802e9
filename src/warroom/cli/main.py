"""The ``warroom`` command: server commands (serve, web, engine, migrate, user, token, demo, apply) and the client
verbs (incident ..., alert ...) that talk to a Warroom server over its REST API.

Server commands set up Django and hand over to management commands in the apps; the client verbs never
touch settings or the database.
"""

from __future__ import annotations

import os

import typer
from django.core.management import execute_from_command_line

from warroom import config as server_config
from warroom.cli import client, workflows
from warroom.cli.config import ConfigError, config_path, normalise_url, read_config_file
from warroom.config import listen_url

app = typer.Typer(
    help="Warroom: self-hosted incident management.", no_args_is_help=True, add_completion=False
)
user_app = typer.Typer(help="Manage users (server side).", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens (server side).", no_args_is_help=True)
integration_app = typer.Typer(help="Manage alert integrations (server side).", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(integration_app, name="integration")
app.add_typer(client.incident_app, name="incident")
app.add_typer(client.alert_app, name="alert")
app.add_typer(client.action_item_app, name="action-item")
app.add_typer(workflows.workflow_app, name="workflow")
app.command("ack")(client.ack_page)
app.command("oncall")(client.oncall_now)


#: A bad server setting is a usage error (typer's exit code for a wrong command line).
EXIT_BAD_SETTING = 2


def _django(*args: str) -> None:
    """Run a Django management command in this process.

    A ``WARROOM_*`` setting the server cannot use (:class:`warroom.config.ConfigError`, raised when Django
    first reads the settings) ends the command with its message as one line, ``warroom: ...``, and exit code
    2: the message already names the variable and what it accepts, so a traceback would only bury it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warroom.settings")
    try:
        execute_from_command_line(["warroom", *args])
    except server_config.ConfigError as exc:
        typer.echo(f"warroom: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_SETTING) from None


@app.command()
def serve(
    demo: bool = typer.Option(False, "--demo", help="Seed a demo organisation on first start."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Web worker processes."),
) -> None:
    """Migrate, then run the web server and the engine in one process (embedded mode)."""
    if not os.environ.get("WARROOM_BASE_URL", "").strip():
        # Links in pages, mails and integration snippets point at where this server listens (the default,
        # http://127.0.0.1:8000, would be wrong on any other port). Set before Django reads its settings, and
        # inherited by the web workers and the engine.
        os.environ["WARROOM_BASE_URL"] = listen_url(host, port)
    args = ["warroom_serve", "--host", host, "--port", str(port), "--workers", str(workers)]
    _django(*args, *(["--demo"] if demo else []))


@app.command()
def web(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(2, help="Web worker processes."),
) -> None:
    """Run only the web server (production: several of these, plus `warroom engine`)."""
    _django(
        "warroom_serve",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-engine",
        "--no-migrate",
    )


@app.command()
def engine(once: bool = typer.Option(False, "--once", help="Run one cycle and exit.")) -> None:
    """Run only the engine loop (production: one or more of these against PostgreSQL)."""
    _django("warroom_engine", *(["--once"] if once else []))


@app.command()
def smtpd(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(2525, help="Port to listen on."),
    tls_cert: str = typer.Option("", help="PEM certificate chain: offer STARTTLS with it."),
    tls_key: str = typer.Option("", help="PEM private key (default: in the --tls-cert file)."),
    require_tls: bool = typer.Option(False, "--require-tls", help="Refuse mail sent without STARTTLS."),
) -> None:
    """Receive alert email (SMTP) for the email integrations' addresses at WARROOM_EMAIL_DOMAIN."""
    tls = ["--tls-cert", tls_cert, "--tls-key", tls_key] + (["--require-tls"] if require_tls else [])
    _django("warroom_smtpd", "--host", host, "--port", str(port), *tls)


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    _django("migrate", "--no-input")


@app.command()
def demo() -> None:
    """Apply migrations, then seed the demo organisation into the configured (empty) database."""
    _django("migrate", "--no-input", "--verbosity", "0")
    _django("warroom_demo")


@app.command()
def check() -> None:
    """Run Django's system checks, including Warroom's production-safety checks."""
    _django("check", "--deploy", "--fail-level", "ERROR")


@app.command()
def apply(
    file: str = typer.Argument(
        ..., help="The YAML file of teams, services, escalation policies and workflows.", show_default=False
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan and change nothing."),
) -> None:
    """Apply a set-up kept as code (docs/apply.md): print the plan and change what differs, all or nothing."""
    _django("warroom_apply", *(["--dry-run"] if dry_run else []), "--", file)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context) -> None:
    """Run any Django management command (advanced)."""
    _django(*ctx.args)


@user_app.command("create")
def user_create(
    email: str = typer.Option(..., "--email", help="The new user's email address (their login)."),
    name: str = typer.Option("", "--name", help="Full name."),
    time_zone: str = typer.Option(
        "UTC", "--time-zone", help="The IANA zone the console shows their times in, e.g. Europe/London."
    ),
    admin: bool = typer.Option(False, "--admin", help="Make them an organisation admin."),
    team: str = typer.Option("", "--team", help="Add them to this team (slug)."),
    role: str = typer.Option("responder", "--role", help="Their role in --team."),
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help="Read the password from the first line of stdin instead of generating one.",
    ),
) -> None:
    """Create a user. The password is read from stdin (--password-stdin) or generated and printed once."""
    args = ["warroom_user", "--email", email, "--name", name, "--time-zone", time_zone, "--role", role]
    if admin:
        args.append("--admin")
    if team:
        args += ["--team", team]
    if password_stdin:
        args.append("--password-stdin")
    _django(*args)


@user_app.command("list")
def user_list() -> None:
    """List everyone: email, name, active or deactivated, organisation admin, time zone, teams (role)."""
    _django("warroom_user_admin", "list")


EmailArgument = typer.Argument(..., help="Their email address (their login).", show_default=False)


@user_app.command("deactivate")
def user_deactivate(email: str = EmailArgument) -> None:
    """Deactivate someone who left: no sign-in, sessions ended, API tokens revoked, skipped by paging."""
    _django("warroom_user_admin", "deactivate", email)


@user_app.command("reactivate")
def user_reactivate(email: str = EmailArgument) -> None:
    """Let a deactivated person sign in again (their old API tokens stay revoked)."""
    _django("warroom_user_admin", "reactivate", email)


@user_app.command("reset-password")
def user_reset_password(email: str = EmailArgument) -> None:
    """Give someone a new generated password, printed once; their console sessions end."""
    _django("warroom_user_admin", "reset-password", email)


@token_app.command("create")
def token_create(
    email: str = typer.Option(..., "--email", help="Whose token."),
    name: str = typer.Option(..., "--name", help="What the token is for."),
    expires_in_days: int | None = typer.Option(
        None,
        "--expires-in-days",
        help="Days until the token expires: 1 to 1095 (three years); default 90.",
        show_default=False,
    ),
    read_only: bool = typer.Option(False, "--read-only", help="The token may only read (GET), never change."),
) -> None:
    """Print a new API token for an existing user. It is shown only this once; it expires (default 90 days)."""
    args = ["warroom_token", "--email", email, "--name", name]
    if expires_in_days is not None:
        args += ["--expires-in-days", str(expires_in_days)]
    if read_only:
        args.append("--read-only")
    _django(*args)


def _use_base_url(explicit: str, *, show_note: bool) -> None:
    """Point the printed endpoint at the server people send to. This command runs apart from the server (which
    may listen on another port than the default 8000, as `warroom serve --port` does without setting
    WARROOM_BASE_URL), so it takes, in order: --base-url, WARROOM_BASE_URL, then the URL the `warroom` client
    talks to (WARROOM_URL, the config file)."""
    if explicit.strip():
        try:
            os.environ["WARROOM_BASE_URL"] = normalise_url(explicit)
        except ConfigError as exc:
            client.fail(client.EXIT_UNREACHABLE, f"--base-url: {exc}")
        return
    if os.environ.get("WARROOM_BASE_URL", "").strip():
        return
    try:
        client_url = os.environ.get("WARROOM_URL", "").strip() or read_config_file(config_path()).get("url")
        if client_url:
            os.environ["WARROOM_BASE_URL"] = normalise_url(client_url)
            return
    except ConfigError:
        pass  # the client's settings are optional here: a broken one is the client's business
    if show_note:
        client.err.print(
            "note: no server URL is configured (--base-url, WARROOM_BASE_URL, WARROOM_URL or the config file): "
            f"the endpoint below assumes the default, {listen_url('127.0.0.1', 8000)}"
        )


@integration_app.command("create")
def integration_create(
    service: str = typer.Option(..., "--service", help="The service's slug."),
    kind: str = typer.Option(
        ...,
        "--kind",
        help="pagerduty, alertmanager, grafana, opsgenie, goalert, webhook, email or heartbeat.",
    ),
    name: str = typer.Option(..., "--name", help="What sends to it, e.g. 'Prometheus prod'."),
    grouping: str = typer.Option(
        "",
        "--grouping",
        help="alert, group_key, window or fields (default: group_key for alertmanager and grafana, else alert).",
    ),
    window_minutes: int = typer.Option(10, "--window-minutes", help="The window, for --grouping window."),
    group_fields: str = typer.Option(
        "", "--group-fields", help="For --grouping fields: comma-separated labels, e.g. alertname,cluster."
    ),
    rate_limit: int | None = typer.Option(
        None, "--rate-limit", help="Requests per minute per key (0: no limit)."
    ),
    interval: int | None = typer.Option(
        None, "--interval", help="Heartbeat: expected seconds between pings."
    ),
    grace: int = typer.Option(60, "--grace", help="Heartbeat: seconds of grace after the interval."),
    signing_secret: str = typer.Option(
        "",
        "--signing-secret",
        help="Grafana, webhook: requests must be signed (HMAC-SHA256) with this secret. '-' reads it from the "
        "first line of stdin (keeps it out of the process list and shell history).",
        show_default=False,
    ),
    field_mapping: str = typer.Option(
        "",
        "--field-mapping",
        help="Webhook: where each field is in the posted JSON, a JSON object of field: dotted path, e.g. "
        '\'{"summary": "alert.title", "dedup_key": "alert.id"}\'.',
    ),
    email_dedup_pattern: str = typer.Option(
        "",
        "--email-dedup-pattern",
        help="Email: a regular expression; what it matches in the subject (its first group) is the dedup key.",
    ),
    email_resolve_pattern: str = typer.Option(
        "", "--email-resolve-pattern", help="Email: a regular expression; a subject it matches resolves."
    ),
    base_url: str = typer.Option(
        "",
        "--base-url",
        help="The server's URL to print the endpoint with (default: WARROOM_BASE_URL, else the client's server "
        "URL: WARROOM_URL or the config file).",
    ),
) -> None:
    """Create an integration on a service and print its endpoint and first key (shown only this once)."""
    _use_base_url(base_url, show_note=kind != "email")
    extra = ["--group-fields", group_fields, "--grace", str(grace)]
    if grouping:
        extra += ["--grouping", grouping]
    if rate_limit is not None:
        extra += ["--rate-limit", str(rate_limit)]
    if interval is not None:
        extra += ["--interval", str(interval)]
    for option, value in (
        ("--signing-secret", signing_secret),
        ("--field-mapping", field_mapping),
        ("--email-dedup-pattern", email_dedup_pattern),
        ("--email-resolve-pattern", email_resolve_pattern),
    ):
        if value:
            extra.append(f"{option}={value}")  # one argument: a value may start with '-' (a pattern, or '-')
    _django(
        "warroom_integration",
        "--service",
        service,
        "--kind",
        kind,
        "--name",
        name,
        "--window-minutes",
        str(window_minutes),
        *extra,
    )


if __name__ == "__main__":  # pragma: no cover
    app()
