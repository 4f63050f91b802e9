from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "warroom.audit"
    label = "audit"
    verbose_name = "Audit log"
