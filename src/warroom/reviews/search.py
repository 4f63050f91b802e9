"""Known-error suggestions: which documented workarounds fit an incident (or a text about to be declared).

A known error matches when it is about one of the same services, or when its text (title, description, root
cause, workaround) shares words with the incident's title and description. Text matching is real full-text
search on both databases:

* **PostgreSQL** — ``to_tsvector('english', …)`` over the problem's fields (title weighted highest) against an OR
  of the incident's words through ``to_tsquery('english', …)``, ranked by ``ts_rank`` (Django's
  ``SearchVector``/``SearchQuery``/``SearchRank``). Computed at query time: no stored column.
* **SQLite** — an FTS5 table ``reviews_problem_fts`` (porter stemming), kept in sync with ``reviews_problem`` by
  triggers (migration ``0003``), queried with ``MATCH '"w1" OR "w2" …'`` and ranked by ``bm25``.
* **Fallback** — when FTS5 is missing (a SQLite built without it, or its triggers gone after a table rebuild), a
  token overlap: the share of the incident's words found in the problem's words.

Scores are normalised to 0..1 within one search (the best text match is 1); a shared service adds 1. Results are
ordered by score, then newest first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Q

from warroom.accounts.models import User
from warroom.incidents.models import Incident
from warroom.reviews import selectors
from warroom.reviews.models import Problem
from warroom.reviews.states import ProblemStatus

MAX_TOKENS = 24
DEFAULT_LIMIT = 5
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers him his how i if in into is it its itself just me more most my no nor not now of off on
    once only or other our ours out over own same she should so some such than that the their theirs them then
    there these they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass
class KnownErrorMatch:
    problem: Problem
    score: float
    same_service: bool
    text_score: float


def tokens(text: str) -> list[str]:
    """The distinct searchable words of ``text``, lower case, in order: at least 3 characters, no stop words."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if len(word) >= 3 and word not in STOPWORDS:
            seen.setdefault(word, None)
        if len(seen) >= MAX_TOKENS:
            break
    return list(seen)


def backend() -> str:
    """Which text search runs here: ``postgres``, ``fts5`` or ``overlap``."""
    if connection.vendor == "postgresql":
        return "postgres"
    if connection.vendor == "sqlite" and _fts_ready():
        return "fts5"
    return "overlap"


def _fts_ready() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'reviews_problem_fts' "
            "OR (type = 'trigger' AND name LIKE 'reviews_problem_fts_a_')"
        )
        row = cursor.fetchone()
    return bool(row and row[0] == 4)


def _postgres_scores(ids: Sequence[int], words: list[str]) -> dict[int, float]:
    # Words are letters and digits only, so joining them with | is a well-formed tsquery.
    query = SearchQuery(" | ".join(words), search_type="raw", config="english")
    vector = (
        SearchVector("title", weight="A", config="english")
        + SearchVector("workaround", weight="B", config="english")
        + SearchVector("root_cause", weight="B", config="english")
        + SearchVector("description", weight="C", config="english")
    )
    rows = (
        Problem.objects.filter(pk__in=list(ids))
        .annotate(rank=SearchRank(vector, query))
        .filter(rank__gt=0)
        .values_list("pk", "rank")
    )
    return {pk: float(rank) for pk, rank in rows}


def _fts_scores(ids: Sequence[int], words: list[str]) -> dict[int, float]:
    match = " OR ".join(f'"{word}"' for word in words)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid, bm25(reviews_problem_fts, 10.0, 2.0, 5.0, 5.0) FROM reviews_problem_fts "
            "WHERE reviews_problem_fts MATCH %s AND rowid IN (SELECT value FROM json_each(%s))",
            [match, json.dumps(list(ids))],
        )
        rows = cursor.fetchall()
    # bm25 is negative, more negative is better.
    return {int(pk): -float(score) for pk, score in rows if score is not None and -float(score) > 0}


def _overlap_scores(ids: Sequence[int], words: list[str]) -> dict[int, float]:
    wanted = set(words)
    scores: dict[int, float] = {}
    rows = Problem.objects.filter(pk__in=list(ids)).values_list(
        "pk", "title", "description", "root_cause", "workaround"
    )
    for pk, *texts in rows:
        shared = wanted & set(_all_tokens(" ".join(texts)))
        if shared:
            scores[pk] = len(shared) / len(wanted)
    return scores


def _all_tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in STOPWORDS]


def text_scores(ids: Sequence[int], text: str) -> dict[int, float]:
    """Problem id → how well its text matches ``text``, normalised so the best is 1.0 (absent: no match)."""
    words = tokens(text)
    if not ids or not words:
        return {}
    kind = backend()
    if kind == "postgres":
        raw = _postgres_scores(ids, words)
    elif kind == "fts5":
        raw = _fts_scores(ids, words)
    else:
        raw = _overlap_scores(ids, words)
    best = max(raw.values(), default=0.0)
    return {pk: score / best for pk, score in raw.items()} if best > 0 else {}


def match_known_errors(
    user: User,
    *,
    text: str,
    service_ids: Iterable[int],
    exclude_closed: bool = True,
    limit: int = DEFAULT_LIMIT,
) -> list[KnownErrorMatch]:
    """The known errors ``user`` may see that share a service with ``service_ids`` or words with ``text``."""
    candidates = selectors.visible_problems(user).filter(~Q(workaround=""))
    if exclude_closed:
        candidates = candidates.exclude(status=ProblemStatus.CLOSED)
    ids = list(candidates.values_list("pk", flat=True))
    if not ids:
        return []
    wanted_services = list(service_ids)
    same_service = (
        set(
            Problem.services.through.objects.filter(
                problem_id__in=ids, service_id__in=wanted_services
            ).values_list("problem_id", flat=True)
        )
        if wanted_services
        else set()
    )
    scores = text_scores(ids, text)
    hits = same_service | set(scores)
    if not hits:
        return []
    problems = {p.pk: p for p in Problem.objects.filter(pk__in=hits).select_related("team", "owner")}
    matches = [
        KnownErrorMatch(
            problem=problems[pk],
            score=(1.0 if pk in same_service else 0.0) + scores.get(pk, 0.0),
            same_service=pk in same_service,
            text_score=scores.get(pk, 0.0),
        )
        for pk in hits
        if pk in problems
    ]
    matches.sort(key=lambda m: (-m.score, -m.problem.created_at.timestamp(), -m.problem.pk))
    return matches[:limit]


def known_errors_for_incident(
    user: User, incident: Incident, *, limit: int = DEFAULT_LIMIT
) -> list[KnownErrorMatch]:
    """The known errors to suggest on ``incident``'s page (its services, its title and description)."""
    service_ids = [s.pk for s in incident.services.all()]
    return match_known_errors(
        user, text=f"{incident.title}\n{incident.description}", service_ids=service_ids, limit=limit
    )
