from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "warroom.oncall"
    label = "oncall"
    verbose_name = "On-call schedules"

    def ready(self) -> None:
        from warroom.accounts import deactivation  # noqa: PLC0415 (apps load first)
        from warroom.oncall import selectors  # noqa: PLC0415

        deactivation.register(selectors.schedules_and_policies_naming)
