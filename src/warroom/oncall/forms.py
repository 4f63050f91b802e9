"""Console forms for on-call. They parse and shape input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms

from warroom.accounts import selectors as accounts
from warroom.accounts.models import User
from warroom.oncall import selectors
from warroom.oncall.models import LayerMember, Schedule


class PersonField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class OverrideForm(forms.Form):
    """An override in the schedule's own wall-clock time (``datetime-local`` inputs)."""

    user = PersonField(queryset=User.objects.none(), label="Who is on call", empty_label="Choose a person…")
    replaces = PersonField(
        queryset=User.objects.none(),
        required=False,
        label="In place of",
        empty_label="Nobody: in addition",
    )
    start = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    note = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, schedule: Schedule, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = accounts.team_people(schedule.team)  # type: ignore[attr-defined]
        on_schedule = LayerMember.objects.filter(layer__schedule=schedule).values("user_id")
        people = User.objects.filter(memberships__team=schedule.team) | User.objects.filter(
            pk__in=on_schedule
        )
        self.fields["replaces"].queryset = people.distinct().order_by("full_name", "email")  # type: ignore[attr-defined]
        zone = selectors.zone_of(schedule)
        # The inputs are wall-clock time in the schedule's zone, not the reader's.
        self.fields["start"].help_text = self.fields["end"].help_text = f"Local time in {zone.key}."
