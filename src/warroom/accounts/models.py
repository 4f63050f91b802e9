"""Users (email login), teams (the tenancy boundary), memberships with roles, and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models

from warroom.lib import clock


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("users need an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        """The user signing in as ``username``: emails are stored lower-cased, and people type them as their
        mail client shows them ("Daniel.Okafor@example.com"), so the match ignores case and surrounding spaces."""
        user = self.filter(email__iexact=str(username or "").strip()).order_by("pk").first()
        if user is None:
            raise self.model.DoesNotExist(f"no user {username!r}")
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True, is_org_admin=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the Django admin site.")
    is_org_admin = models.BooleanField(default=False, help_text="Sees and administers every team.")
    date_joined = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class Team(models.Model):
    """A group of people who own services and are an assignment group for incidents."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(User, through="Membership", related_name="teams")
    sso_group = models.CharField(
        max_length=255,
        blank=True,
        help_text=(
            "A group at the single sign-on provider (docs/sso.md): its members join this team as responders when "
            "they sign in through the provider, and leave it when they are no longer in the group. Blank: none."
        ),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    RESPONDER = "responder", "Responder"
    OBSERVER = "observer", "Observer"


#: Roles that may change incidents and services of their team.
ACTING_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.RESPONDER})
#: Roles that may manage the team itself (members, services).
MANAGING_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.RESPONDER)
    created_at = models.DateTimeField(auto_now_add=True)
    #: made by the single sign-on group sync (the team's ``sso_group``), which removes it when the person leaves
    #: the group; a membership added by hand is never removed by the sync
    via_sso = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="membership_unique_user_team"),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="membership_role_valid"
            ),
        ]
        ordering = ["team__name", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} as {self.role}"


class TokenScope(models.TextChoices):
    FULL = "full", "Full access"
    READ = "read", "Read only"


class ApiToken(models.Model):
    """A named bearer token. Only an HMAC of the secret is stored; the secret is shown once.

    ``expires_at`` null means the token never expires (tokens made before expiry existed); new tokens always
    get one. A ``read`` token may only read (GET and HEAD).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise the token.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    scope = models.CharField(max_length=8, choices=TokenScope.choices, default=TokenScope.FULL)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=[s.value for s in TokenScope]), name="api_token_scope_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        """Usable now: neither revoked nor expired."""
        return self.revoked_at is None and not self.is_expired_at(clock.now())

    @property
    def is_expired(self) -> bool:
        return self.is_expired_at(clock.now())

    def is_expired_at(self, at: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= at

    @property
    def is_read_only(self) -> bool:
        return self.scope == TokenScope.READ


class SignInFailure(models.Model):
    """One refused password sign-in, kept for the sign-in throttle (:mod:`warroom.accounts.signin`) and
    deleted once it is older than its window."""

    email = models.CharField(max_length=254, help_text="As typed, lower-cased; it may match no user.")
    address = models.CharField(max_length=45, blank=True, help_text="The client's IP address (REMOTE_ADDR).")
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["email", "address", "at"], name="signin_failure_key_at"),
            models.Index(fields=["at"], name="signin_failure_at"),
        ]

    def __str__(self) -> str:
        return f"{self.email} from {self.address or '?'} at {self.at:%Y-%m-%d %H:%M:%S}"


class ExternalIdentity(models.Model):
    """A person's account at the single sign-on provider (:mod:`warroom.accounts.sso`), linked to their Warroom
    user the first time they sign in through it. The provider's ``sub`` never changes; their email may."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    issuer = models.CharField(max_length=255, help_text="The provider's issuer URL (the token's iss).")
    subject = models.CharField(max_length=255, help_text="The person's id at the provider (the token's sub).")
    email = models.CharField(max_length=254, blank=True, help_text="Their email at the last sign-in.")
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "external identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="external_identity_unique"),
            models.UniqueConstraint(fields=["user", "issuer"], name="external_identity_one_per_issuer"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
