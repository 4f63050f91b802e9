"""Paging URLs at the site root: the acknowledge-link confirmation page (no sign-in; the signed token is the
credential) and the incident page's paging actions (console, sign-in required)."""

from django.urls import path

from warroom.paging import hooks, views, views_console

app_name = "paging"

urlpatterns = [
    path("ack/<str:token>/", views.ack, name="ack"),
    path("ack/<str:token>/voice/", hooks.twilio_voice_ack, name="ack-voice"),
    path("hooks/twilio/sms/", hooks.twilio_sms, name="twilio-sms"),
    path("hooks/slack/interactions/", hooks.slack_interactions, name="slack-interactions"),
    path("incidents/<str:ref>/escalation/acknowledge/", views_console.acknowledge, name="acknowledge"),
    path("incidents/<str:ref>/escalation/escalate-now/", views_console.escalate_now, name="escalate-now"),
    path("incidents/<str:ref>/escalation/reassign/", views_console.reassign, name="reassign"),
    path("incidents/<str:ref>/escalation/snooze/", views_console.snooze, name="snooze"),
]
