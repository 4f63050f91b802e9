from django.urls import path

from warroom.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="incident-list"),
    path("login/", views.LoginView.as_view(), name="login"),
]
