from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "warroom.automation"
    label = "automation"
    verbose_name = "Automation"

    def ready(self) -> None:
        from warroom.accounts import deactivation  # noqa: PLC0415 (apps load first)
        from warroom.automation import selectors  # noqa: PLC0415

        deactivation.register(selectors.workflows_naming)
