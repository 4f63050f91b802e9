from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.backends.signals import connection_created


class AuditConfig(AppConfig):
    name = "warroom.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from warroom.audit import guard, signals  # noqa: PLC0415 (apps load first)

        connection_created.connect(guard.define_functions, dispatch_uid="audit.define_functions")
        user_logged_in.connect(signals.on_sign_in, dispatch_uid="audit.sign_in")
        user_logged_out.connect(signals.on_sign_out, dispatch_uid="audit.sign_out")
