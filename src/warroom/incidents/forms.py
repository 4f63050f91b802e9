"""Console forms for incidents. They parse and shape input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.catalog import selectors as catalog
from warroom.catalog.models import Service
from warroom.incidents import selectors
from warroom.incidents.models import Category, Incident, Subcategory
from warroom.incidents.priority import Impact, Priority, Urgency
from warroom.incidents.states import HoldReason, ResolutionCode, State
from warroom.lib.errors import NotFound
from warroom.web.forms import FieldWording, RefField, UserChoiceField, version_field

BLANK = ("", "—")
UNASSIGNED = ("", "Unassigned")


class ServiceChoiceField(forms.ModelMultipleChoiceField[Service]):
    def label_from_instance(self, obj: Service) -> str:
        return f"{obj.name} · {obj.team.name}"


def _grouped_people(teams: QuerySet[Team]) -> list[Any]:
    """Assignee choices grouped by team: the acting members of each team."""
    groups: list[Any] = [UNASSIGNED]
    for team in teams:
        people = [
            (m.user.pk, m.user.display_name)
            for m in accounts.team_members(team)
            if m.role in accounts.ACTING_ROLES and m.user.is_active
        ]
        if people:
            groups.append((team.name, people))
    return groups


def _grouped_subcategories(categories: QuerySet[Category], current: Subcategory | None = None) -> list[Any]:
    """Subcategory choices grouped by category; ``current`` stays selectable even if it is inactive."""
    groups: list[Any] = [BLANK]
    listed: set[int] = set()
    for category in categories:
        options = [(s.pk, s.name) for s in category.subcategories.all() if s.is_active]
        listed.update(pk for pk, _name in options)
        groups.append((category.name, options))
    if current is not None and current.pk not in listed:
        groups.append((current.pk, str(current)))
    return groups


class _RecordForm(forms.Form):
    """The fields of the incident record that both the declare and the edit form carry."""

    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Markdown: **bold**, `code`, lists, links.",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), label="Assignment group", empty_label="Choose a team…"
    )
    services = ServiceChoiceField(
        queryset=Service.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    impact = forms.TypedChoiceField(choices=Impact.choices, coerce=int, initial=Impact.MEDIUM)
    urgency = forms.TypedChoiceField(choices=Urgency.choices, coerce=int, initial=Urgency.MEDIUM)
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False, empty_label="—")
    subcategory = forms.ModelChoiceField(queryset=Subcategory.objects.none(), required=False)
    assignee = UserChoiceField(queryset=User.objects.none(), required=False)
    is_major = forms.BooleanField(required=False, label="Major incident")
    is_private = forms.BooleanField(
        required=False,
        label="Private",
        help_text="Only participants, the team's admins and organisation admins can see it.",
    )

    def __init__(self, *args: Any, user: User, incident: Incident | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = accounts.actionable_teams(user)
        if incident is not None:
            teams = Team.objects.filter(pk__in=[*teams.values_list("pk", flat=True), incident.team_id])
        cast_team = self.fields["team"]
        assert isinstance(cast_team, forms.ModelChoiceField)
        cast_team.queryset = teams.order_by("name")
        services = catalog.visible_services(user)
        cast_services = self.fields["services"]
        assert isinstance(cast_services, forms.ModelMultipleChoiceField)
        cast_services.queryset = services.order_by("name")
        categories = selectors.categories()
        cast_category = self.fields["category"]
        assert isinstance(cast_category, forms.ModelChoiceField)
        cast_category.queryset = categories
        cast_sub = self.fields["subcategory"]
        assert isinstance(cast_sub, forms.ModelChoiceField)
        cast_sub.queryset = Subcategory.objects.filter(category__in=categories)
        cast_sub.choices = _grouped_subcategories(categories)
        cast_assignee = self.fields["assignee"]
        assert isinstance(cast_assignee, forms.ModelChoiceField)
        cast_assignee.queryset = User.objects.filter(
            memberships__team__in=teams, memberships__role__in=list(accounts.ACTING_ROLES)
        ).distinct()
        cast_assignee.choices = _grouped_people(teams.order_by("name"))
        if incident is not None:
            self._include_current(incident)

    def _include_current(self, incident: Incident) -> None:
        """Keep the record's current values selectable even if they are inactive or out of the lists."""
        category = self.fields["category"]
        assert isinstance(category, forms.ModelChoiceField)
        if incident.category_id is not None:
            category.queryset = Category.objects.filter(Q(is_active=True) | Q(pk=incident.category_id))
        subcategory = self.fields["subcategory"]
        assert isinstance(subcategory, forms.ModelChoiceField)
        if incident.subcategory is not None:
            current = incident.subcategory
            subcategory.queryset = Subcategory.objects.filter(
                Q(category__in=selectors.categories()) | Q(pk=current.pk)
            )
            subcategory.choices = _grouped_subcategories(selectors.categories(), current)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ModelChoiceField)
        if incident.assignee_id is not None:
            listed = assignee.queryset.values("pk") if assignee.queryset is not None else []
            assignee.queryset = User.objects.filter(Q(pk__in=listed) | Q(pk=incident.assignee_id))


class DeclareForm(_RecordForm):
    field_order = [
        "title",
        "description",
        "team",
        "services",
        "impact",
        "urgency",
        "category",
        "subcategory",
        "assignee",
        "is_major",
        "is_private",
    ]


class EditForm(_RecordForm):
    parent = RefField(label="Parent incident")
    version = version_field()

    def __init__(self, *args: Any, user: User, incident: Incident, **kwargs: Any) -> None:
        super().__init__(*args, user=user, incident=incident, **kwargs)
        self.user = user
        self.incident = incident

    def clean_parent(self) -> Incident | None:
        """The parent, looked up among the incidents the user may see; an unchanged parent is kept as is."""
        ref = (self.cleaned_data.get("parent") or "").strip()
        current = self.incident.parent
        if not ref:
            return None
        if current is not None and ref.upper() == current.ref:
            return current
        try:
            return selectors.get_incident_for_user_or_404(self.user, ref=ref)
        except NotFound:
            raise forms.ValidationError(f"incident {ref} not found") from None


def edit_initial(incident: Incident, parent_visible: bool) -> dict[str, Any]:
    return {
        "title": incident.title,
        "description": incident.description,
        "team": incident.team_id,
        "services": [s.pk for s in incident.services.all()],
        "impact": incident.impact,
        "urgency": incident.urgency,
        "category": incident.category_id,
        "subcategory": incident.subcategory_id,
        "assignee": incident.assignee_id,
        "is_major": incident.is_major,
        "is_private": incident.is_private,
        "parent": incident.parent.ref if incident.parent is not None and parent_visible else "",
        "version": incident.version,
    }


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=State.choices, widget=forms.HiddenInput)
    hold_reason = forms.ChoiceField(choices=[BLANK, *HoldReason.choices], required=False)
    resolution_code = forms.ChoiceField(choices=[BLANK, *ResolutionCode.choices], required=False)
    resolution_notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Resolution notes"
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Note")
    version = version_field()


class NoteForm(FieldWording):
    wording = {"text": "The note"}

    text = forms.CharField(
        label="Add a note",
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "What did you find, try or decide? (markdown)"}
        ),
        error_messages={"required": "Write the note first: its text must not be empty."},
    )


class RoleForm(forms.Form):
    ACTIONS = (("claim", "Claim"), ("assign", "Assign"), ("release", "Release"))
    role = forms.SlugField()
    action = forms.ChoiceField(choices=ACTIONS)
    user = UserChoiceField(queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = people


class TaskForm(FieldWording):
    wording = {"title": "The task's title"}

    title = forms.CharField(
        label="New task",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Roll back 4.2.1"}),
        error_messages={"required": "Name the task first: its title must not be empty."},
    )
    owner = UserChoiceField(queryset=User.objects.none(), required=False, empty_label="No owner")

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any) -> None:
        # Its own ids: the incident page also holds the edit form, whose "title" would share ``id_title`` (the
        # "New task" label and the error's aria-describedby then pointed at the incident's title).
        kwargs.setdefault("auto_id", "task_%s")
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = people


class TaskUpdateForm(TaskForm):
    title = forms.CharField(required=False)  # ticking a task off or handing it over leaves its title alone
    done = forms.TypedChoiceField(choices=[("", ""), ("1", "done"), ("0", "open")], required=False)


class RelateForm(forms.Form):
    ref = RefField(label="Related incident", required=True)
    action = forms.ChoiceField(choices=(("link", "Link"), ("unlink", "Unlink")), initial="link")


class MergeForm(forms.Form):
    into = RefField(label="The incident that stays", required=True)


class WatchForm(forms.Form):
    watching = forms.TypedChoiceField(choices=(("1", "watch"), ("0", "unwatch")), coerce=lambda v: v == "1")


class PreviewForm(forms.Form):
    impact = forms.TypedChoiceField(choices=Impact.choices, coerce=int)
    urgency = forms.TypedChoiceField(choices=Urgency.choices, coerce=int)


class FilterForm(forms.Form):
    """The incident list's filters. Invalid values are ignored, never an error page."""

    STATES = [("", "Open"), ("all", "All states"), *State.choices]
    q = forms.CharField(required=False, max_length=200, label="Search", widget=forms.SearchInput)
    state = forms.ChoiceField(choices=STATES, required=False)
    priority = forms.TypedChoiceField(
        choices=[("", "Any priority"), *Priority.choices], coerce=int, required=False, empty_value=None
    )
    team = forms.ChoiceField(required=False, label="Assignment group")
    service = forms.ChoiceField(required=False)
    assignee = forms.ChoiceField(required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        q = self.fields["q"]
        q.widget.attrs.update({"placeholder": "Search title, text or INC number", "autocomplete": "off"})
        team = self.fields["team"]
        assert isinstance(team, forms.ChoiceField)
        team.choices = [("", "Any group"), *((t.slug, t.name) for t in accounts.visible_teams(user))]
        service = self.fields["service"]
        assert isinstance(service, forms.ChoiceField)
        service.choices = [("", "Any service"), *((s.slug, s.name) for s in catalog.visible_services(user))]
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ChoiceField)
        assignee.choices = [
            ("", "Anyone"),
            ("me", "Me"),
            ("none", "Unassigned"),
            *((str(u.pk), u.display_name) for u in accounts.visible_users(user).order_by("full_name")),
        ]

    def value(self, name: str) -> Any:
        """The cleaned value of a filter, or None when it was missing or invalid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) or None
