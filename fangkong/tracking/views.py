"""Pages of tracking: manual cards, close-out checks, close contacts and the case trees."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fangkong.core.web import renders_app_errors


@login_required
@renders_app_errors
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "tracking/home.html", {})
