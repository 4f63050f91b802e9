from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Warroom")


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
