"""Console routes of the reviews app. They join the console's URL map (namespace ``web``) in
:mod:`warroom.web.urls`, so they are named ``web:postmortem-detail`` and so on."""

from django.urls import path

from warroom.reviews import views

console_patterns = [
    path("postmortems/", views.postmortem_list, name="postmortem-list"),
    path("postmortems/start/", views.postmortem_start, name="postmortem-start"),
    path("postmortems/settings/", views.review_settings, name="review-settings"),
    path("postmortems/<str:ref>/", views.postmortem_detail, name="postmortem-detail"),
    path("postmortems/<str:ref>/export.md", views.postmortem_export, name="postmortem-export"),
    path("postmortems/<str:ref>/print/", views.postmortem_print, name="postmortem-print"),
    path("postmortems/<str:ref>/edit/", views.postmortem_edit, name="postmortem-edit"),
    path("postmortems/<str:ref>/events/", views.postmortem_event_add, name="postmortem-event-add"),
    path(
        "postmortems/<str:ref>/events/<int:event_id>/remove/",
        views.postmortem_event_remove,
        name="postmortem-event-remove",
    ),
    path("postmortems/<str:ref>/pick/", views.postmortem_pick, name="postmortem-pick"),
    path("postmortems/<str:ref>/whys/", views.postmortem_why_add, name="postmortem-why-add"),
    path(
        "postmortems/<str:ref>/whys/<int:why_id>/", views.postmortem_why_action, name="postmortem-why-action"
    ),
    path("postmortems/<str:ref>/factors/", views.postmortem_factor_add, name="postmortem-factor-add"),
    path(
        "postmortems/<str:ref>/factors/<int:factor_id>/remove/",
        views.postmortem_factor_remove,
        name="postmortem-factor-remove",
    ),
    path("postmortems/<str:ref>/submit/", views.postmortem_submit, name="postmortem-submit"),
    path("postmortems/<str:ref>/approve/", views.postmortem_approve, name="postmortem-approve"),
    path(
        "postmortems/<str:ref>/request-changes/",
        views.postmortem_request_changes,
        name="postmortem-request-changes",
    ),
    path("postmortems/<str:ref>/publish/", views.postmortem_publish, name="postmortem-publish"),
    path("postmortems/<str:ref>/amend/", views.postmortem_amend, name="postmortem-amend"),
    path("postmortems/<str:ref>/comments/", views.postmortem_comment, name="postmortem-comment"),
    path("postmortems/<str:ref>/action-items/", views.postmortem_action_item, name="postmortem-action-item"),
    path("action-items/", views.action_item_list, name="action-item-list"),
    path("action-items/<int:item_id>/", views.action_item_detail, name="action-item-detail"),
    path("action-items/<int:item_id>/status/", views.action_item_status, name="action-item-status"),
    path("known-errors/suggestions/", views.known_error_suggestions, name="known-error-suggestions"),
    path("problems/", views.problem_list, name="problem-list"),
    path("problems/<str:ref>/", views.problem_detail, name="problem-detail"),
    path("problems/<str:ref>/edit/", views.problem_edit, name="problem-edit"),
    path("problems/<str:ref>/transition/", views.problem_transition, name="problem-transition"),
    path("problems/<str:ref>/incidents/", views.problem_link, name="problem-link"),
    path("problems/<str:ref>/action-items/", views.problem_action_item, name="problem-action-item"),
]
