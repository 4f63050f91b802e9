"""Console forms for postmortems, action items and problems. They parse and shape input; the services decide
what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import lazy

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.catalog import selectors as catalog
from warroom.catalog.models import Service
from warroom.reviews import selectors
from warroom.reviews.models import FactorCategory, PostmortemSection, PostmortemTemplate
from warroom.reviews.states import ActionItemPriority, ActionItemStatus, PostmortemStatus, ProblemStatus
from warroom.web.forms import FieldWording, RefField, UserChoiceField, version_field

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _in_your_zone(rest: str = "") -> str:
    """``In your time zone (Europe/Berlin).``: the zone named, as the page renders (the console's zone is the
    reader's own, set per request), so a wall-clock field is never read as UTC or as the server's time."""
    return f"In your time zone ({timezone.get_current_timezone_name()}){rest}."


def _datetime_field(*, rest: str = "", **kwargs: Any) -> forms.DateTimeField:
    """A wall-clock date and time in the reader's zone; its help names the zone, then says ``rest``."""
    return forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=lazy(_in_your_zone, str)(rest),
        **kwargs,
    )


def _markdown(rows: int = 4, **kwargs: Any) -> forms.CharField:
    return forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": rows}), **kwargs)


class FilterMixin(forms.Form):
    def value(self, name: str) -> Any:
        """The cleaned value of a filter, or None when it was missing or invalid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) or None


class IdsForm(forms.Form):
    """A form whose fields' HTML ids carry its own prefix, so several forms on one page never share an id
    (a label must point at its own form's field)."""

    ids = "id_%s"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", self.ids)
        super().__init__(*args, **kwargs)


def _choices(field: forms.Field, options: list[tuple[str, str]]) -> None:
    assert isinstance(field, forms.ChoiceField)
    field.choices = options


# ---------------------------------------------------------------------------------------------------------------
# postmortems


class PostmortemFilterForm(FilterMixin):
    q = forms.CharField(required=False, max_length=200, widget=forms.SearchInput)
    status = forms.ChoiceField(required=False)
    team = forms.ChoiceField(required=False)
    mine = forms.ChoiceField(required=False, choices=[("", "Everyone's"), ("review", "Mine to review")])

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"placeholder": "Search title or INC number", "autocomplete": "off"}
        )
        _choices(self.fields["status"], [("", "Any status"), *PostmortemStatus.choices])
        _choices(
            self.fields["team"], [("", "Any team"), *((t.slug, t.name) for t in accounts.visible_teams(user))]
        )


class StartForm(IdsForm):
    ids = "start_%s"

    incident = RefField(required=True, label="Incident")
    template = forms.ModelChoiceField(
        queryset=PostmortemTemplate.objects.none(), required=False, empty_label="The default template"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["template"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = selectors.templates()


class _TextsForm(IdsForm):
    """Title, one markdown field per section (``section-<key>``) and the detection and response notes."""

    title = forms.CharField(max_length=200)

    def __init__(self, *args: Any, sections: list[PostmortemSection], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section_keys = [s.key for s in sections]
        for section in sections:
            self.fields[f"section-{section.key}"] = _markdown(
                rows=6, label=section.title, help_text=section.hint or None
            )
        self.fields["detection_notes"] = _markdown(
            label="Detection notes", help_text="How we found out, and how we could have found out sooner."
        )
        self.fields["response_notes"] = _markdown(
            label="Response notes",
            help_text="How the response went: paging, escalation, coordination, tools.",
        )

    def section_fields(self) -> list[forms.BoundField]:
        return [self[f"section-{key}"] for key in self.section_keys]

    def sections(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(f"section-{key}", "") for key in self.section_keys}


class EditForm(FieldWording, _TextsForm):
    wording = {"mitigated_at": "The time the impact was mitigated"}

    version = version_field()
    mitigated_at = _datetime_field(
        required=False,
        label="Impact mitigated at",
        rest="; leave empty when the impact stopped with the resolution",
    )
    covers_children = forms.BooleanField(required=False, label="Cover the child incidents too")


class AmendForm(_TextsForm):
    ids = "amend_%s"

    reason = forms.CharField(
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        label="Reason for the amendment",
    )


class KeyEventForm(IdsForm):
    ids = "event_%s"

    at = _datetime_field(label="When")
    text = forms.CharField(
        max_length=2000, label="What happened", widget=forms.TextInput(attrs={"autocomplete": "off"})
    )


class PickForm(forms.Form):
    entry = forms.IntegerField(min_value=1)
    key = forms.ChoiceField(choices=[("1", "pick"), ("0", "unpick")])


class WhyForm(IdsForm):
    ids = "why_%s"

    question = forms.CharField(
        max_length=500,
        required=False,
        label="Question",
        help_text="Your own wording of the why; empty asks “Why?”.",
        widget=forms.TextInput(attrs={"placeholder": "Why did …?", "autocomplete": "off"}),
    )
    answer = forms.CharField(max_length=2000, label="Because", widget=forms.Textarea(attrs={"rows": 2}))


class WhyActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("up", "up"), ("down", "down"), ("remove", "remove")])


class FactorForm(IdsForm):
    ids = "factor_%s"

    category = forms.ModelChoiceField(
        queryset=FactorCategory.objects.none(), empty_label="Choose a category…"
    )
    description = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = selectors.factor_categories()


class PeopleField(forms.ModelMultipleChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class SubmitForm(IdsForm):
    ids = "submit_%s"

    reviewers = PeopleField(
        queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple, label="Reviewers"
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reviewers"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = accounts.team_people(team)


class CommentForm(IdsForm):
    ids = "comment_%s"

    body = forms.CharField(max_length=20_000, label="Comment", widget=forms.Textarea(attrs={"rows": 3}))


class RequestChangesForm(IdsForm):
    ids = "changes_%s"

    comment = forms.CharField(
        max_length=20_000, label="What should change?", widget=forms.Textarea(attrs={"rows": 3})
    )


# ---------------------------------------------------------------------------------------------------------------
# action items


def _people(team: Team | None, user: User) -> QuerySet[User]:
    return (
        accounts.team_people(team) if team is not None else accounts.visible_users(user).order_by("full_name")
    )


class ActionItemForm(IdsForm):
    ids = "item_%s"

    title = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    owner = UserChoiceField(queryset=User.objects.none(), required=False, empty_label="No owner yet")
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Due")
    priority = forms.TypedChoiceField(
        choices=ActionItemPriority.choices, coerce=int, initial=ActionItemPriority.MEDIUM
    )
    description = _markdown(rows=3)

    def __init__(self, *args: Any, team: Team | None, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = _people(team, user)


class ActionItemEditForm(ActionItemForm):
    status = forms.ChoiceField(choices=ActionItemStatus.choices)
    version = version_field()


class ActionItemStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionItemStatus.choices)
    next = forms.CharField(required=False, max_length=2000)


class ActionItemFilterForm(FilterMixin):
    q = forms.CharField(required=False, max_length=200, widget=forms.SearchInput)
    owner = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False)
    overdue = forms.BooleanField(required=False, label="Overdue only")
    team = forms.ChoiceField(required=False)
    service = forms.ChoiceField(required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"placeholder": "Search action items", "autocomplete": "off"})
        people = accounts.visible_users(user).order_by("full_name")
        _choices(
            self.fields["owner"],
            [
                ("", "Any owner"),
                ("me", "Mine"),
                ("none", "No owner"),
                *((str(u.pk), u.display_name) for u in people),
            ],
        )
        _choices(
            self.fields["status"],
            [("", "Open and in progress"), ("all", "Any status"), *ActionItemStatus.choices],
        )
        _choices(
            self.fields["team"], [("", "Any team"), *((t.slug, t.name) for t in accounts.visible_teams(user))]
        )
        _choices(
            self.fields["service"],
            [("", "Any service"), *((s.slug, s.name) for s in catalog.visible_services(user))],
        )


# ---------------------------------------------------------------------------------------------------------------
# problems


class ServiceChoiceField(forms.ModelMultipleChoiceField[Service]):
    def label_from_instance(self, obj: Service) -> str:
        return f"{obj.name} · {obj.team.name}"


class ProblemForm(IdsForm):
    # its own ids: on /problems/ the filter form has a team (``id_team``) too
    ids = "problem_%s"

    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label="Choose a team…")
    description = _markdown(rows=4)
    services = ServiceChoiceField(
        queryset=Service.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    root_cause = _markdown(rows=3, label="Root cause")
    workaround = _markdown(
        rows=3, help_text="A documented workaround makes this a known error, suggested on matching incidents."
    )
    owner = UserChoiceField(queryset=User.objects.none(), required=False, empty_label="No owner yet")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team = self.fields["team"]
        assert isinstance(team, forms.ModelChoiceField)
        team.queryset = accounts.actionable_teams(user)
        services = self.fields["services"]
        assert isinstance(services, forms.ModelMultipleChoiceField)
        services.queryset = catalog.visible_services(user)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = accounts.visible_users(user).order_by("full_name")


class ProblemEditForm(ProblemForm):
    version = version_field()

    def __init__(self, *args: Any, user: User, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        del self.fields["team"]
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = accounts.team_people(team)


class ProblemTransitionForm(forms.Form):
    to = forms.ChoiceField(choices=ProblemStatus.choices)
    note = forms.CharField(required=False, max_length=2000)
    version = version_field()


class LinkIncidentForm(IdsForm):
    ids = "link_%s"

    ref = RefField(
        label="Incident", required=True, error_messages={"required": "name an incident, e.g. INC0001042"}
    )
    action = forms.ChoiceField(choices=[("link", "link"), ("unlink", "unlink")])


class ProblemFilterForm(FilterMixin):
    q = forms.CharField(required=False, max_length=200, widget=forms.SearchInput)
    status = forms.ChoiceField(required=False)
    team = forms.ChoiceField(required=False)
    service = forms.ChoiceField(required=False)
    known = forms.BooleanField(required=False, label="Known errors only")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"placeholder": "Search problems or PRB number", "autocomplete": "off"}
        )
        _choices(self.fields["status"], [("", "Not closed"), ("all", "Any status"), *ProblemStatus.choices])
        _choices(
            self.fields["team"], [("", "Any team"), *((t.slug, t.name) for t in accounts.visible_teams(user))]
        )
        _choices(
            self.fields["service"],
            [("", "Any service"), *((s.slug, s.name) for s in catalog.visible_services(user))],
        )


class PolicyForm(forms.Form):
    required_priorities = forms.TypedMultipleChoiceField(
        choices=[],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Priorities that need a postmortem",
    )
    template = forms.ModelChoiceField(queryset=PostmortemTemplate.objects.none(), required=False)
    due_days = forms.IntegerField(min_value=0, max_value=365, label="Due after (days)")

    def __init__(self, *args: Any, priorities: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["required_priorities"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = priorities
        template = self.fields["template"]
        assert isinstance(template, forms.ModelChoiceField)
        template.queryset = selectors.templates()


class CategoryForm(IdsForm):
    ids = "category_%s"

    name = forms.CharField(max_length=80)
    description = forms.CharField(max_length=300, required=False)
