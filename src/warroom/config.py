"""Strict parsing of Warroom's environment variables.

Every setting Warroom reads from the environment goes through this module, so a typo or a bad value fails at
start-up with a message that names the variable, instead of surfacing later as odd behaviour.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A configuration variable is missing or malformed."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """The variable's value, stripped; unset or blank means ``default`` (as for every parser here)."""
    raw = os.environ.get(name, "").strip()
    return raw or default


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of true/false/1/0/yes/no/on/off, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int = 10**9) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0, maximum: float = 1e9) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return (
        parts.scheme in {"http", "https"} and bool(parts.hostname) and not parts.query and not parts.fragment
    )


def listen_url(host: str, port: int) -> str:
    """The http URL of a server listening on ``host``:``port``; a wildcard address is shown as 127.0.0.1."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    return f"http://{shown}:{port}"


def env_url(name: str, default: str) -> str:
    raw = env_str(name, default)
    if not _is_http_url(raw):
        raise ConfigError(
            f"{name} must be an absolute http(s) URL such as https://warroom.example.com, not {raw!r}"
        )
    return raw.rstrip("/")


def env_origins(name: str, default: list[str]) -> list[str]:
    """A comma-separated list of origins (scheme://host[:port]), as Django's CSRF_TRUSTED_ORIGINS wants."""
    values = env_list(name, default)
    for value in values:
        if not _is_http_url(value.replace("*.", "", 1)) or urlsplit(value).path not in ("", "/"):
            raise ConfigError(
                f"{name} must list origins such as https://warroom.example.com (scheme and host, "
                f"no path), not {value!r}"
            )
    return values


_DOMAIN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_DOTTED_NUMBERS = re.compile(r"^[0-9.]+$")  # 127.0.0.1 is an address, not a domain: mail wants [127.0.0.1]


def mail_domain_of(host: str) -> str:
    """The mail domain for a host name or address: an IP address as the address literal mail needs
    (``[192.0.2.1]``, ``[IPv6:2001:db8::1]``; a bare address after the ``@`` is no address at all)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        name = host.lower()
        return name if _DOMAIN.match(name) and not _DOTTED_NUMBERS.match(name) else "localhost"
    return f"[{address}]" if address.version == 4 else f"[IPv6:{address}]"


def _address_literal(value: str) -> bool:
    inner = value[1:-1]
    if not (value.startswith("[") and value.endswith("]")):
        return False
    try:
        if inner.startswith("ipv6:"):
            return ipaddress.ip_address(inner[5:]).version == 6
        return ipaddress.ip_address(inner).version == 4
    except ValueError:
        return False


def env_domain(name: str, default: str) -> str:
    """A mail domain such as alerts.example.com, or an address literal such as [192.0.2.1] (lower-cased;
    ``IPv6:`` keeps its spelling)."""
    value = env_str(name, default).strip().lower()
    if _address_literal(value):
        return value.replace("[ipv6:", "[IPv6:")
    if not _DOMAIN.match(value) or _DOTTED_NUMBERS.match(value):
        raise ConfigError(
            f"{name} must be a domain name such as alerts.example.com or an address literal such as "
            f"[192.0.2.1], not {value!r}"
        )
    return value


def env_email(name: str, default: str) -> str:
    raw = env_str(name, default)
    _display, address = parseaddr(raw)
    local, _at, domain = address.partition("@")
    if not local or not domain or " " in address:
        raise ConfigError(
            f"{name} must be an email address such as warroom@example.com or "
            f"'Warroom <warroom@example.com>', not {raw!r}"
        )
    return raw


def env_database_url(name: str, default: str) -> str:
    raw = env_str(name, default)
    parts = urlsplit(raw)
    if parts.scheme not in {"sqlite", "postgres", "postgresql", "pgsql"} or not raw.startswith(
        f"{parts.scheme}://"
    ):
        raise ConfigError(
            f"{name} must start with sqlite:/// or postgres://, as in sqlite:////path/to/warroom.sqlite3 or "
            f"postgres://user:password@host:5432/dbname; not {_redact(raw)!r}"
        )
    if parts.scheme == "sqlite" and parts.path in ("", "/"):
        raise ConfigError(f"{name} must name a database file: sqlite:////path/to/warroom.sqlite3")
    if parts.scheme != "sqlite" and (not parts.hostname and not parts.path.strip("/")):
        raise ConfigError(f"{name} must name a host or a database: postgres://user:password@host:5432/dbname")
    return raw


def env_networks(name: str) -> tuple[str, ...]:
    """Comma-separated CIDR ranges such as ``10.0.0.0/8,fd00::/8`` (a bare address: just that one)."""
    found: list[str] = []
    for item in env_list(name, []):
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(
                f"{name} must list address ranges such as 10.0.0.0/8 or fd00::/8, not {item!r}"
            ) from None
    return tuple(found)


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


_TWILIO_SID = re.compile(r"^AC[0-9a-f]{32}$")
_TWILIO_FROM = re.compile(r"^(\+[1-9][0-9]{6,14}|MG[0-9a-f]{32})$")


@dataclass(frozen=True)
class Smtp:
    """The mail server for notifications (``WARROOM_SMTP_*``); ``host`` empty = not configured."""

    host: str
    port: int
    user: str
    password: str
    security: str  # "starttls", "tls" (implicit TLS) or "none"
    timeout: float


@dataclass(frozen=True)
class Twilio:
    """SMS and voice calls through Twilio (``WARROOM_TWILIO_*``); ``account_sid`` empty = not configured."""

    account_sid: str
    auth_token: str
    from_: str
    base_url: str


@dataclass(frozen=True)
class Slack:
    """Slack's Web API (``WARROOM_SLACK_*``), for channels given by id; webhooks need none of it."""

    bot_token: str
    api_url: str
    #: verifies the button clicks Slack posts to /hooks/slack/interactions/ (``WARROOM_SLACK_SIGNING_SECRET``)
    signing_secret: str = ""


@dataclass(frozen=True)
class Oidc:
    """Single sign-on through an OpenID Connect provider (``WARROOM_OIDC_*``); ``issuer`` empty = off."""

    issuer: str
    client_id: str
    client_secret: str
    #: what the sign-in button says: "Sign in with <name>"
    name: str = "single sign-on"
    scopes: str = "openid email profile"
    #: create an account for a person the provider signs in who has none (else an admin adds them first)
    create_users: bool = False
    #: the email domains accounts may be created for (empty: any the provider signs in)
    allowed_domains: tuple[str, ...] = ()
    #: accept the provider's ``email`` claim without ``email_verified: true`` (providers that never send it)
    trust_email: bool = False
    #: seconds to wait for the provider's discovery, token and key endpoints
    timeout: float = 10.0
    #: who may still sign in with a password: "everyone", or "admins" (organisation admins, as a break-glass)
    password_sign_in: str = "everyone"
    #: the ID token claim that lists the person's groups, for teams with an ``sso_group``
    groups_claim: str = "groups"
    #: signing out of Warroom after a single sign-on also ends the session at the provider (RP-initiated logout)
    end_session: bool = False

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


def _oidc() -> Oidc:
    issuer = env_str("WARROOM_OIDC_ISSUER").rstrip("/")
    client_id, secret = env_str("WARROOM_OIDC_CLIENT_ID"), env_str("WARROOM_OIDC_CLIENT_SECRET")
    if not issuer:
        if env_str("WARROOM_OIDC_PASSWORD_SIGNIN", "everyone").lower() != "everyone":
            raise ConfigError(
                "WARROOM_OIDC_PASSWORD_SIGNIN needs WARROOM_OIDC_ISSUER: people must have a way in"
            )
        if client_id or secret:
            raise ConfigError(
                "WARROOM_OIDC_CLIENT_ID and WARROOM_OIDC_CLIENT_SECRET need WARROOM_OIDC_ISSUER"
            )
        return Oidc(issuer="", client_id="", client_secret="")
    issuer = env_url("WARROOM_OIDC_ISSUER", issuer)
    host = urlsplit(issuer).hostname or ""
    if (
        not issuer.startswith("https://")
        and host != "localhost"
        and not (_is_ip(host) and ipaddress.ip_address(host).is_loopback)
    ):
        raise ConfigError(
            f"WARROOM_OIDC_ISSUER must be an https URL (plain http only on this machine), not {issuer!r}"
        )
    if not client_id or not secret:
        raise ConfigError(
            "WARROOM_OIDC_ISSUER needs WARROOM_OIDC_CLIENT_ID and WARROOM_OIDC_CLIENT_SECRET: the client the "
            "identity provider registered for Warroom"
        )
    scopes = env_str("WARROOM_OIDC_SCOPES", "openid email profile")
    if "openid" not in scopes.split():
        raise ConfigError(f"WARROOM_OIDC_SCOPES must include openid, not {scopes!r}")
    domains = tuple(domain.lower().lstrip("@") for domain in env_list("WARROOM_OIDC_ALLOWED_DOMAINS", []))
    for domain in domains:
        if not _DOMAIN.match(domain):
            raise ConfigError(f"WARROOM_OIDC_ALLOWED_DOMAINS: {domain!r} is not an email domain")
    return Oidc(
        issuer=issuer,
        client_id=client_id,
        client_secret=secret,
        name=env_str("WARROOM_OIDC_NAME", "single sign-on")[:60],
        scopes=scopes,
        create_users=env_bool("WARROOM_OIDC_CREATE_USERS", False),
        allowed_domains=domains,
        trust_email=env_bool("WARROOM_OIDC_TRUST_EMAIL", False),
        timeout=env_float("WARROOM_OIDC_TIMEOUT", 10.0, minimum=1.0, maximum=60.0),
        groups_claim=env_str("WARROOM_OIDC_GROUPS_CLAIM", "groups"),
        end_session=env_bool("WARROOM_OIDC_END_SESSION", False),
        password_sign_in=env_choice("WARROOM_OIDC_PASSWORD_SIGNIN", "everyone", ("everyone", "admins")),
    )


def _smtp() -> Smtp:
    security = env_choice("WARROOM_SMTP_SECURITY", "starttls", ("starttls", "tls", "none"))
    default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
    host = env_str("WARROOM_SMTP_HOST")
    if host and not _DOMAIN.match(host.lower()) and not _is_ip(host):
        raise ConfigError(
            f"WARROOM_SMTP_HOST must be a host name or address such as smtp.example.com, not {host!r}"
        )
    user, password = env_str("WARROOM_SMTP_USER"), env_str("WARROOM_SMTP_PASSWORD")
    if bool(user) != bool(password):
        raise ConfigError("WARROOM_SMTP_USER and WARROOM_SMTP_PASSWORD go together: set both or neither")
    return Smtp(
        host=host,
        port=env_int("WARROOM_SMTP_PORT", default_port, minimum=1, maximum=65535),
        user=user,
        password=password,
        security=security,
        timeout=env_float("WARROOM_SMTP_TIMEOUT", 10.0, minimum=1.0, maximum=120.0),
    )


def _metrics_token() -> str:
    """``WARROOM_METRICS_TOKEN``: the bearer token ``/metrics`` asks for; blank = loopback callers only."""
    token = env_str("WARROOM_METRICS_TOKEN")
    if token and (len(token) < 16 or any(c.isspace() for c in token)):
        raise ConfigError("WARROOM_METRICS_TOKEN must be at least 16 characters without spaces")
    return token


def _encryption_keys() -> tuple[str, ...]:
    """``WARROOM_ENCRYPTION_KEYS``: Fernet keys (comma-separated, the first seals) for secrets at rest
    (:mod:`warroom.lib.sealed`); blank = a key derived from the secret key."""
    keys = tuple(env_list("WARROOM_ENCRYPTION_KEYS", []))
    for number, key in enumerate(keys, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raw = b""
        if len(raw) != 32:
            raise ConfigError(
                f"WARROOM_ENCRYPTION_KEYS: key {number} is not a Fernet key (32 bytes, URL-safe base64; make one "
                'with: python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())")'
            )
    return keys


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _twilio() -> Twilio:
    sid = env_str("WARROOM_TWILIO_ACCOUNT_SID")
    token = env_str("WARROOM_TWILIO_AUTH_TOKEN")
    sender = env_str("WARROOM_TWILIO_FROM")
    if (sid or token or sender) and not (sid and token and sender):
        raise ConfigError(
            "WARROOM_TWILIO_ACCOUNT_SID, WARROOM_TWILIO_AUTH_TOKEN and WARROOM_TWILIO_FROM go together: "
            "set all three"
        )
    if sid and not _TWILIO_SID.match(sid):
        raise ConfigError(f"WARROOM_TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits, not {sid!r}")
    if sender and not _TWILIO_FROM.match(sender):
        raise ConfigError(
            "WARROOM_TWILIO_FROM must be a phone number in E.164 form such as +15005550006, or a messaging "
            f"service id (MG + 32 hex digits), not {sender!r}"
        )
    return Twilio(
        account_sid=sid,
        auth_token=token,
        from_=sender,
        base_url=env_url("WARROOM_TWILIO_BASE_URL", "https://api.twilio.com"),
    )


def _slack() -> Slack:
    token = env_str("WARROOM_SLACK_BOT_TOKEN")
    if token and not token.startswith(("xoxb-", "xoxp-")):
        raise ConfigError(
            "WARROOM_SLACK_BOT_TOKEN must be a Slack bot token (xoxb-...) or user token (xoxp-...)"
        )
    return Slack(
        bot_token=token,
        api_url=env_url("WARROOM_SLACK_API_URL", "https://slack.com/api"),
        signing_secret=env_str("WARROOM_SLACK_SIGNING_SECRET"),
    )


def _redact(url: str) -> str:
    """``url`` with any password replaced, for error messages."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def _read_secret(path: Path) -> str:
    value = path.read_text().strip()
    if len(value) < 50:
        raise ConfigError(f"{path} holds a secret key shorter than 50 characters; delete it or fix it")
    return value


def load_or_create_secret(data_dir: Path) -> str:
    """Return the secret key kept in the data dir, creating it (mode 0600) on first use.

    The key is written to a private temporary file and hard-linked into place, so two processes starting
    at once on a fresh data dir agree on one key and neither ever reads a half-written file.
    """
    path = data_dir / "secret_key"
    if path.exists():
        return _read_secret(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".secret_key.", dir=data_dir)  # mkstemp creates it with mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64) + "\n")
        with contextlib.suppress(FileExistsError):  # another process won the race: use its key
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return _read_secret(path)


@dataclass(frozen=True)
class Config:
    """The parsed environment."""

    data_dir: Path
    database_url: str
    secret_key: str
    secret_key_generated: bool
    debug: bool
    allowed_hosts: list[str]
    base_url: str
    csrf_trusted_origins: list[str]
    engine_interval: float
    autoclose_days: int
    log_level: str
    email_from: str
    email_domain: str
    intake_retention_days: int
    smtp: Smtp
    twilio: Twilio
    slack: Slack
    http_allow_private: tuple[str, ...]
    metrics_token: str = ""
    encryption_keys: tuple[str, ...] = ()
    oidc: Oidc = Oidc(issuer="", client_id="", client_secret="")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def is_https(self) -> bool:
        return self.base_url.startswith("https://")


def load() -> Config:
    """Read and validate every WARROOM_* variable."""
    data_dir = Path(env_str("WARROOM_DATA_DIR", str(Path.cwd() / "data"))).expanduser().resolve()
    database_url = env_database_url("WARROOM_DATABASE_URL", f"sqlite:///{data_dir / 'warroom.sqlite3'}")
    secret = env_str("WARROOM_SECRET_KEY")
    generated = False
    if not secret:
        secret = load_or_create_secret(data_dir)
        generated = True
    base_url = env_url("WARROOM_BASE_URL", "http://127.0.0.1:8000")
    host = urlsplit(base_url).hostname or "127.0.0.1"
    allowed = env_list("WARROOM_ALLOWED_HOSTS", sorted({host, "127.0.0.1", "localhost"}))
    origin = f"{urlsplit(base_url).scheme}://{urlsplit(base_url).netloc}"
    level = env_str("WARROOM_LOG_LEVEL", "INFO").upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ConfigError(f"WARROOM_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {level!r}")
    return Config(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret,
        secret_key_generated=generated,
        debug=env_bool("WARROOM_DEBUG", False),
        allowed_hosts=allowed,
        base_url=base_url,
        csrf_trusted_origins=env_origins("WARROOM_CSRF_TRUSTED_ORIGINS", [origin]),
        engine_interval=env_float("WARROOM_ENGINE_INTERVAL", 2.0, minimum=0.1, maximum=60.0),
        autoclose_days=env_int("WARROOM_AUTOCLOSE_DAYS", 7, minimum=0, maximum=3650),
        log_level=level,
        email_from=env_email("WARROOM_EMAIL_FROM", "warroom@localhost"),
        email_domain=env_domain("WARROOM_EMAIL_DOMAIN", mail_domain_of(host)),
        intake_retention_days=env_int("WARROOM_INTAKE_RETENTION_DAYS", 30, minimum=1, maximum=3650),
        smtp=_smtp(),
        twilio=_twilio(),
        slack=_slack(),
        http_allow_private=env_networks("WARROOM_HTTP_ALLOW_PRIVATE"),
        metrics_token=_metrics_token(),
        encryption_keys=_encryption_keys(),
        oidc=_oidc(),
    )
