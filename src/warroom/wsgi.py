"""WSGI entry point: ``warroom.wsgi:application``.

Alert intake requests are served by the intake fast path (group commit, no middleware stack) in front of
Django; everything else is Django (``django_application``). See ``warroom.alerts.fastpath`` and docs/adr/0005.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warroom.settings")
django_application = get_wsgi_application()

from warroom.alerts.fastpath import IntakeDispatcher  # noqa: E402  (needs the apps loaded)
from warroom.comms.public_views import StatusPageFastPath  # noqa: E402

# Public status pages already rendered and cached are answered before Django (warroom.comms.public_views).
application = StatusPageFastPath(IntakeDispatcher(django_application))
