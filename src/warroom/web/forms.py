"""Form fields shared by the console's forms."""

from __future__ import annotations

from typing import Any

from django import forms

from warroom.accounts.models import User


class UserChoiceField(forms.ModelChoiceField[User]):
    """Pick a person; shows their name, not their email."""

    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class RefField(forms.CharField):
    """An incident reference such as ``INC0001042`` (the view resolves it through the selectors)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("placeholder", "INC0001042")
        self.widget.attrs.setdefault("autocomplete", "off")


def version_field() -> forms.IntegerField:
    """The hidden ``version`` an edit form carries, passed to the service as ``expected_version``."""
    return forms.IntegerField(widget=forms.HiddenInput, min_value=1)
