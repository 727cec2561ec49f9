"""The published vectors: each yields its verdict, and they cover every case the tests use."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from .. import verify as v
from ..vectors import cases, run

VECTORS = Path(settings.BASE_DIR) / "docs" / "pass-vectors"


def published() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(VECTORS.glob("*.json"))]


@pytest.mark.parametrize("vector", published(), ids=lambda vector: vector["name"])
def test_each_published_vector_yields_its_verdict(vector):
    verdict = run(vector)
    assert {
        "reason": verdict.reason,
        "detail": verdict.detail,
        "warnings": list(verdict.warnings),
    } == vector["expected"]


def test_the_published_vectors_are_the_cases_the_tests_use():
    assert sorted(vector["name"] for vector in published()) == sorted(c["name"] for c in cases())


def test_every_reason_code_has_a_vector():
    reasons = {vector["expected"]["reason"] for vector in published()}
    assert reasons == set(v.REASONS)


def test_a_vector_is_self_contained_json_with_public_keys_only():
    for vector in published():
        assert set(vector) == {
            "name",
            "description",
            "scanned",
            "root_key",
            "trust_list",
            "revoked",
            "now",
            "clock_offset",
            "policy",
            "expected",
        }
        assert set(vector["root_key"]["jwk"]) == {"kty", "crv", "x", "y"}  # no "d"
