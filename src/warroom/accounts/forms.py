"""Console forms for teams, their members, API tokens and the person's own profile."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from warroom.accounts import signin, sso
from warroom.accounts.models import Role, TokenScope
from warroom.accounts.services import TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS
from warroom.lib import zones


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    description = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What the team runs and how to reach it"}),
    )


class SignInForm(AuthenticationForm):
    """The sign-in form: email and password, and a clear "wait N minutes" while the sign-in throttle
    (:mod:`warroom.accounts.signin`) holds this email from this address."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an active account.",
    }

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        if email:
            wait = signin.retry_after(email, signin.address_of(self.request))
            if wait is not None:
                raise forms.ValidationError(signin.wait_message(wait), code="throttled")
        return super().clean()

    def confirm_login_allowed(self, user: Any) -> None:
        """With ``WARROOM_OIDC_PASSWORD_SIGNIN=admins`` only organisation admins sign in with a password (checked
        after the password, so the answer tells a stranger nothing about an email)."""
        super().confirm_login_allowed(user)
        oidc = sso.config()
        if oidc.enabled and oidc.password_sign_in == "admins" and not user.is_org_admin:
            raise forms.ValidationError(
                f"Sign in with {oidc.name}: on this server only organisation admins sign in with a password.",
                code="sso_required",
            )


def role_choices(*, with_admin: bool) -> list[tuple[str, str]]:
    """The roles a person may give: a team's managers give every role but admin."""
    return [(value, label) for value, label in Role.choices if with_admin or value != Role.ADMIN]


class AddMemberForm(forms.Form):
    email = forms.EmailField(label="Email of an existing user")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.RESPONDER)

    def __init__(self, *args: Any, with_admin: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(with_admin=with_admin)  # type: ignore[attr-defined]


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        error_messages={"required": "a token needs a name"},
        widget=forms.TextInput(attrs={"placeholder": "e.g. laptop CLI, Grafana", "autocomplete": "off"}),
    )
    scope = forms.ChoiceField(
        label="Access",
        choices=[(TokenScope.FULL, "Full (acts as you)"), (TokenScope.READ, "Read only (GET)")],
        initial=TokenScope.FULL,
        required=False,  # not sent (a script posting the form): full, as before
    )
    expires_in_days = forms.IntegerField(
        label="Expires in (days)",
        min_value=1,
        max_value=TOKEN_MAX_DAYS,
        initial=TOKEN_DEFAULT_DAYS,
        help_text=f"1 to {TOKEN_MAX_DAYS} days; left empty, {TOKEN_DEFAULT_DAYS}.",
        required=False,
    )

    def clean_scope(self) -> str:
        return str(self.cleaned_data.get("scope") or TokenScope.FULL)

    def clean_expires_in_days(self) -> int:
        days = self.cleaned_data.get("expires_in_days")
        return TOKEN_DEFAULT_DAYS if days is None else int(days)


class ProfileForm(forms.Form):
    """The person's display name and time zone; the service validates the zone and decides."""

    full_name = forms.CharField(
        label="Display name",
        max_length=150,
        required=False,
        help_text="How you appear on incidents and timelines. Left empty, your email address is shown.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=(),
        help_text="The console shows every time in this zone.",
    )

    def __init__(self, *args: Any, current_zone: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = zones.choices()  # a legacy alias (EST ...) set through the API is added below
        if current_zone not in {value for value, _label in choices}:
            choices = [(current_zone, current_zone), *choices]  # e.g. "EST", set through the API
        self.fields["time_zone"].choices = choices  # type: ignore[attr-defined]


class PasswordForm(forms.Form):
    """A person's own password: the current one, and the new one twice. The service checks both."""

    current_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label="New password",
        strip=False,
        help_text="At least 10 characters, not a common password, not like your name or email.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password_again") not in (None, data["new_password"]):
            self.add_error("new_password_again", "the two new passwords differ")
        return data
