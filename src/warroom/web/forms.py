"""Form fields shared by the console's forms."""

from __future__ import annotations

from typing import Any, ClassVar

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


class FieldWording(forms.Form):
    """A form whose service names its fields by their API names ("text", "mitigated_at"): a service's message
    about a field shows next to that field in the words of its label, not in the API's ("mitigated_at is in the
    future" reads "The time the impact was mitigated is in the future")."""

    #: how a message names a field where its label reads badly in a sentence; otherwise its label
    wording: ClassVar[dict[str, str]] = {}

    def add_error(self, field: str | None, error: Any) -> None:
        if field is not None and field in self.fields and isinstance(error, str):
            error = self.reworded(field, error)
        super().add_error(field, error)

    def reworded(self, field: str, message: str) -> str:
        words = self.wording.get(field) or str(self.fields[field].label or field)
        spoken = field.replace("_", " ")
        for name in (f"the {spoken}", spoken, field):
            if message.lower().startswith(f"{name.lower()} "):
                return words + message[len(name) :]
        return message


def version_field() -> forms.IntegerField:
    """The hidden ``version`` an edit form carries, passed to the service as ``expected_version``."""
    return forms.IntegerField(widget=forms.HiddenInput, min_value=1)
