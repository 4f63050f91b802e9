"""The database side of "append-only": what lets ``flush`` empty the audit table past its triggers.

The triggers of migration ``0003_append_only`` refuse UPDATE and DELETE of audit rows (and TRUNCATE on
PostgreSQL). Emptying the whole database with ``flush`` (an operator's deliberate reset, and what the test suite
does after each transactional test) must still work, so the triggers step aside while :func:`emptying` holds:

* SQLite: the DELETE trigger asks the SQL function ``warroom_audit_emptying()``, which every connection Warroom
  opens defines (:func:`define_functions`) and which answers 1 only inside :func:`emptying` on that connection.
  A connection that did not define it (the ``sqlite3`` shell) gets "no such function" and deletes nothing.
* PostgreSQL: ``flush`` truncates; the TRUNCATE trigger lets it through when the session setting
  ``warroom.audit_emptying`` is ``on``, which :func:`emptying` sets for the duration. Row UPDATE and DELETE are
  refused whatever the setting.

This guards against mistakes (a bulk ``update()``, a stray ``DELETE``), not against the database's owner, who
can drop triggers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

SQLITE_FUNCTION = "warroom_audit_emptying"
POSTGRES_SETTING = "warroom.audit_emptying"
_FLAG = "_warroom_audit_emptying"


def define_functions(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: define the SQLite function the DELETE trigger consults."""
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function(
        SQLITE_FUNCTION, 0, lambda: 1 if getattr(connection, _FLAG, False) else 0, deterministic=False
    )


@contextmanager
def emptying(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Let the statements run on ``connection`` inside the block empty the audit table (``flush`` only)."""
    setattr(connection, _FLAG, True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', false)", [POSTGRES_SETTING])
    try:
        yield
    finally:
        setattr(connection, _FLAG, False)
        if connection.vendor == "postgresql" and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'off', false)", [POSTGRES_SETTING])
