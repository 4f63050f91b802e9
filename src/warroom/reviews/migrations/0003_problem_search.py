"""Full-text search of problems on SQLite: an FTS5 index over title, description, root cause and workaround,
kept in sync with ``reviews_problem`` by triggers (so every write, from the services or the admin, updates it).

On PostgreSQL nothing is created: the search runs ``to_tsvector``/``to_tsquery`` over the row at query time
(problem tables stay small). On a SQLite built without FTS5 the table is skipped and the search falls back to
token overlap (see ``warroom.reviews.search``).
"""

from django.db import OperationalError, migrations

CREATE = [
    "CREATE VIRTUAL TABLE reviews_problem_fts USING fts5(title, description, root_cause, workaround, "
    "content='reviews_problem', "
    "content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER reviews_problem_fts_ai AFTER INSERT ON reviews_problem BEGIN "
    "INSERT INTO reviews_problem_fts(rowid, title, description, root_cause, workaround) "
    "VALUES (new.id, new.title, new.description, new.root_cause, new.workaround); END",
    "CREATE TRIGGER reviews_problem_fts_ad AFTER DELETE ON reviews_problem BEGIN "
    "INSERT INTO reviews_problem_fts(reviews_problem_fts, rowid, title, description, root_cause, workaround) "
    "VALUES ('delete', old.id, old.title, old.description, old.root_cause, old.workaround); END",
    "CREATE TRIGGER reviews_problem_fts_au AFTER UPDATE ON reviews_problem BEGIN "
    "INSERT INTO reviews_problem_fts(reviews_problem_fts, rowid, title, description, root_cause, workaround) "
    "VALUES ('delete', old.id, old.title, old.description, old.root_cause, old.workaround); "
    "INSERT INTO reviews_problem_fts(rowid, title, description, root_cause, workaround) "
    "VALUES (new.id, new.title, new.description, new.root_cause, new.workaround); END",
    "INSERT INTO reviews_problem_fts(reviews_problem_fts) VALUES ('rebuild')",
]

DROP = [
    "DROP TRIGGER IF EXISTS reviews_problem_fts_ai",
    "DROP TRIGGER IF EXISTS reviews_problem_fts_ad",
    "DROP TRIGGER IF EXISTS reviews_problem_fts_au",
    "DROP TABLE IF EXISTS reviews_problem_fts",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        try:
            cursor.execute("CREATE VIRTUAL TABLE temp.reviews_fts_probe USING fts5(x)")
            cursor.execute("DROP TABLE temp.reviews_fts_probe")
        except OperationalError:
            return  # no FTS5 in this SQLite: the search uses token overlap
        for statement in CREATE:
            cursor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in DROP:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("reviews", "0002_defaults")]
    operations = [migrations.RunPython(create, drop)]
