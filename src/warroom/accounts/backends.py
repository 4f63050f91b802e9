"""The authentication backend: Django's model backend (email and password) behind the sign-in throttle of
:mod:`warroom.accounts.signin`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from warroom.accounts import signin
from warroom.accounts.models import User


class ThrottledModelBackend(ModelBackend):
    """Email and password, refused without a look at the password while the (email, address) pair waits.

    Raising :class:`PermissionDenied` stops Django from trying any other backend; the sign-in form tells the
    person how long to wait (:class:`warroom.accounts.forms.SignInForm`).
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        email = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if email is None or password is None:
            return None
        address = signin.address_of(request)
        if signin.retry_after(email, address) is not None:
            raise PermissionDenied("too many failed sign-ins")
        user = super().authenticate(request, username=email, password=password, **kwargs)
        if user is None:
            signin.record_failure(email, address)
        else:
            signin.record_success(email, address)
        return user
