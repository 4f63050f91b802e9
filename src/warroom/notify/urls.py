"""The notifications page of the console (sign-in required), mounted at the site root."""

from django.urls import path

from warroom.notify import views

urlpatterns = [
    path("settings/notifications/", views.notification_settings, name="notify-settings"),
    path("settings/notifications/methods/", views.method_create, name="notify-method-create"),
    path(
        "settings/notifications/methods/<int:method_id>/send-code/",
        views.method_send_code,
        name="notify-method-send-code",
    ),
    path(
        "settings/notifications/methods/<int:method_id>/verify/",
        views.method_verify,
        name="notify-method-verify",
    ),
    path(
        "settings/notifications/methods/<int:method_id>/disable/",
        views.method_disable,
        name="notify-method-disable",
    ),
    path(
        "settings/notifications/methods/<int:method_id>/test/", views.method_test, name="notify-method-test"
    ),
    path(
        "settings/notifications/methods/<int:method_id>/delete/",
        views.method_delete,
        name="notify-method-delete",
    ),
    path("settings/notifications/rules/", views.rule_create, name="notify-rule-create"),
    path("settings/notifications/rules/<int:rule_id>/", views.rule_edit, name="notify-rule-edit"),
    path("settings/notifications/rules/<int:rule_id>/delete/", views.rule_delete, name="notify-rule-delete"),
    path("settings/notifications/working-hours/", views.working_hours_save, name="notify-working-hours"),
    path(
        "settings/notifications/working-hours/clear/",
        views.working_hours_clear,
        name="notify-working-hours-clear",
    ),
    path("settings/notifications/shift-reminders/", views.shift_reminder_save, name="notify-shift-reminders"),
]
