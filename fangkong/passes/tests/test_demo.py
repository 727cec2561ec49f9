"""The demo prints the worker's pass page, with today's pass issued."""

import io

import pytest
from django.core.management import call_command

from ..models import Pass

pytestmark = pytest.mark.django_db


def test_the_demo_issues_todays_pass_for_the_worker_whose_link_it_prints():
    out = io.StringIO()
    call_command("seed_demo", "--scale", "small", "--no-health", stdout=out)
    printed = out.getvalue()
    assert "/health/d/" in printed and "http://127.0.0.1:8000/passes/p/" in printed
    row = Pass.objects.get()
    assert row.daily and row.person is not None and row.person.name in printed
