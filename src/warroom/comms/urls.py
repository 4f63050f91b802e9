"""Console routes of stakeholder updates and internal subscriptions (sign-in required), mounted at the site
root by :mod:`warroom.urls`."""

from django.urls import path

from warroom.comms import views

urlpatterns = [
    path("incidents/<str:ref>/updates/", views.update_post, name="comms-update-post"),
    path("incidents/<str:ref>/updates/form/", views.update_form, name="comms-update-form"),
    path("incidents/<str:ref>/updates/<int:update_id>/", views.update_detail, name="comms-update-detail"),
    path("settings/subscriptions/", views.subscriptions, name="comms-subscriptions"),
    path("settings/subscriptions/new/", views.subscription_create, name="comms-subscription-create"),
    path(
        "settings/subscriptions/<int:subscription_id>/delete/",
        views.subscription_delete,
        name="comms-subscription-delete",
    ),
    path("settings/update-templates/", views.update_templates, name="comms-templates"),
    path("settings/update-templates/new/", views.template_create, name="comms-template-create"),
    path("settings/update-templates/<int:template_id>/", views.template_edit, name="comms-template-edit"),
    path(
        "settings/update-templates/<int:template_id>/delete/",
        views.template_delete,
        name="comms-template-delete",
    ),
]
