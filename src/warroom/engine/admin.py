from django.contrib import admin

from warroom.engine.models import ModuleState


@admin.register(ModuleState)
class ModuleStateAdmin(admin.ModelAdmin[ModuleState]):
    list_display = ["name", "runs", "items", "last_finished_at", "last_error_at"]
