"""Major-incident console URLs, included in the console's map (namespace ``web``)."""

from django.urls import path

from warroom.incidents import major_views

urlpatterns = [
    path("incidents/<str:ref>/major/", major_views.incident_major_card, name="incident-major"),
    path("incidents/<str:ref>/major/promote/", major_views.incident_promote, name="incident-major-promote"),
    path("incidents/<str:ref>/major/demote/", major_views.incident_demote, name="incident-major-demote"),
    path(
        "incidents/<str:ref>/major/children/", major_views.incident_attach_child, name="incident-major-child"
    ),
    path("incidents/<str:ref>/major/resolve/", major_views.incident_resolve, name="incident-major-resolve"),
]
