"""Paging URLs at the site root: the acknowledge-link confirmation page (no sign-in; the signed token is the
credential)."""

from django.urls import path

from warroom.paging import views

app_name = "paging"

urlpatterns = [
    path("ack/<str:token>/", views.ack, name="ack"),
]
