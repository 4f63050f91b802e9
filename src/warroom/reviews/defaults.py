"""The built-in defaults: the postmortem template's sections and the contributing-factor taxonomy.

Migration ``0002_defaults`` seeds copies of these as editable rows; the code falls back to
:data:`DEFAULT_SECTIONS` only when no template row exists at all.
"""

from __future__ import annotations

DEFAULT_TEMPLATE_NAME = "Standard postmortem"

DEFAULT_SECTIONS: list[dict[str, str]] = [
    {
        "key": "summary",
        "title": "Summary",
        "hint": "What happened, in a few sentences, for someone who was not there.",
    },
    {"key": "impact", "title": "Impact", "hint": "Who and what was affected, how badly and for how long."},
    {
        "key": "timeline",
        "title": "Timeline",
        "hint": "Context for the key events listed with the postmortem.",
    },
    {
        "key": "root-cause",
        "title": "Root cause",
        "hint": "The underlying cause; the 5 whys chain records the reasoning.",
    },
    {
        "key": "contributing-factors",
        "title": "Contributing factors",
        "hint": "What made it worse or likelier; each factor is also recorded with a category.",
    },
    {
        "key": "went-well",
        "title": "What went well",
        "hint": "Detection, tools, people and decisions that helped.",
    },
    {
        "key": "went-badly",
        "title": "What went badly",
        "hint": "What slowed the response or widened the impact.",
    },
    {
        "key": "lessons",
        "title": "Lessons learned",
        "hint": "What we will keep doing, start doing and stop doing.",
    },
]

DEFAULT_FACTOR_CATEGORIES: list[tuple[str, str, str]] = [
    ("change", "Change", "A deployment, configuration push or other planned change."),
    ("capacity", "Capacity", "Load, saturation, quotas or resource exhaustion."),
    ("dependency", "Dependency", "An upstream service, vendor or third party."),
    ("configuration", "Configuration", "A wrong, missing or drifting setting."),
    ("monitoring-gap", "Monitoring gap", "Missing, noisy or late alerting and dashboards."),
    ("process", "Process", "Runbooks, handovers, reviews or change management."),
    ("human-factors", "Human factors", "Fatigue, ambiguity, tooling that invited a mistake."),
    ("security", "Security", "An attack, a vulnerability or an access problem."),
    ("data", "Data", "Bad, corrupt, unexpected or missing data."),
]

#: Priorities that need a postmortem when they resolve, until an admin changes the policy.
DEFAULT_REQUIRED_PRIORITIES = [1, 2]
