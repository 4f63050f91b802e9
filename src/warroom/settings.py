"""Django settings for Warroom, built from the environment by :mod:`warroom.config`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.utils.csp import CSP

from warroom import config

django_stubs_ext.monkeypatch()

CONFIG = config.load()
BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = CONFIG.data_dir

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
CSRF_TRUSTED_ORIGINS = CONFIG.csrf_trusted_origins
WARROOM_BASE_URL = CONFIG.base_url
WARROOM_ENGINE_INTERVAL = CONFIG.engine_interval
WARROOM_AUTOCLOSE_DAYS = CONFIG.autoclose_days
WARROOM_EMAIL_DOMAIN = CONFIG.email_domain
WARROOM_INTAKE_RETENTION_DAYS = CONFIG.intake_retention_days
WARROOM_SECRET_KEY_GENERATED = CONFIG.secret_key_generated

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "warroom.audit",
    "warroom.accounts",
    "warroom.catalog",
    "warroom.oncall",
    "warroom.alerts",
    "warroom.incidents",
    "warroom.reviews",
    "warroom.comms",
    "warroom.automation",
    "warroom.analytics",
    "warroom.paging",
    "warroom.integrations",
    "warroom.notify",
    "warroom.engine",
    "warroom.web",
    "warroom.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "warroom.lib.request_id.RequestIdMiddleware",
    "warroom.lib.nul_guard.NulGuardMiddleware",
    "warroom.lib.head_as_get.HeadAsGetMiddleware",
    "warroom.lib.chunked.ChunkedBodyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "warroom.urls"
WSGI_APPLICATION = "warroom.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "warroom.web.context.globals_",
            ],
        },
    },
]


def _database(url: str) -> dict[str, Any]:
    db: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=600 if url.startswith("sqlite") else 60)
    )
    if db["ENGINE"] == "django.db.backends.sqlite3":
        Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        db["OPTIONS"] = {
            # Writers take the lock when the transaction begins, so two writers never deadlock on upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
            ),
        }
    else:
        db["CONN_HEALTH_CHECKS"] = True
    return db


DATABASES = {"default": _database(CONFIG.database_url)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["warroom.accounts.backends.ThrottledModelBackend"]  # the sign-in throttle
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:incident-list"
LOGOUT_REDIRECT_URL = "web:login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = (
    DATA_DIR / "static"
)  # `warroom manage collectstatic` fills it; WhiteNoise also finds app statics
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CONFIG.is_https
CSRF_COOKIE_SECURE = CONFIG.is_https
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
}

DEFAULT_FROM_EMAIL = CONFIG.email_from

# Mail goes through Django's SMTP backend. The "notifications" mailer (the email channel) exists only when
# WARROOM_SMTP_HOST is set; "default" (Django's own mail) uses the same server, or localhost:25 without one.
_SMTP_OPTIONS = {
    "host": CONFIG.smtp.host,
    "port": CONFIG.smtp.port,
    "username": CONFIG.smtp.user,
    "password": CONFIG.smtp.password,
    "use_tls": CONFIG.smtp.security == "starttls",
    "use_ssl": CONFIG.smtp.security == "tls",
    "timeout": CONFIG.smtp.timeout,
}
_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
MAILERS: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": _SMTP_BACKEND,
        "OPTIONS": _SMTP_OPTIONS if CONFIG.smtp.host else {"host": "localhost", "port": 25},
    }
}
if CONFIG.smtp.host:
    MAILERS["notifications"] = {"BACKEND": _SMTP_BACKEND, "OPTIONS": _SMTP_OPTIONS}
# Notification channels (warroom.integrations): Twilio for SMS and voice, Slack's Web API.
WARROOM_TWILIO = CONFIG.twilio
WARROOM_SLACK = CONFIG.slack
# Outbound HTTP (warroom.lib.http): address ranges an administrator allows despite being private.
WARROOM_HTTP_ALLOW_PRIVATE = CONFIG.http_allow_private
# Secrets at rest (warroom.lib.sealed): explicit Fernet keys, the first sealing; then keys derived from SECRET_KEY.
WARROOM_ENCRYPTION_KEYS = CONFIG.encryption_keys
WARROOM_OIDC = CONFIG.oidc  # single sign-on (warroom.accounts.sso)

DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_secrets": {"()": "warroom.lib.logredact.RedactSecrets"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}
    },
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs every request URL at INFO: webhook URLs are secrets (warroom.lib.http logs what it should)
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50
