"""The OpenAPI schema: generated without warnings, served with an offline docs page, and property-tested
with schemathesis — reads and label writes never answer 500 and always match the schema."""

import re

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_support import build_api_world

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_spectacular_generates_the_schema_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/projects/{project_id}/scores/export/" in text and "bearerToken" in text


def test_docs_page_works_offline(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources
    assert any("swagger-ui" in s for s in sources)
    for asset in (s for s in sources if s.startswith("/static/")):
        assert client.get(asset).status_code == 200, asset


@pytest.fixture
def api_world(db):
    return build_api_world()


@pytest.fixture
def wsgi_app():
    """The real Django WSGI app, in this thread (so it sees the test's transaction): the per-request
    connection recycling is switched off as Django's own test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(api_world, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)
    schema.config.update(base_url="http://testserver")  # ALLOWED_HOSTS of the test settings
    return schema


FUZZ = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _operations():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return [(method.upper(), path) for path, methods in paths.items() for method in methods]


OPERATIONS = _operations()
READS = [op for op in OPERATIONS if op[0] == "GET"]
LABEL_WRITES = [op for op in OPERATIONS if op[0] in ("POST", "PATCH") and "/labels/" in op[1]]


def fuzz(api_schema, method, path, headers, path_parameters=None):
    """Hypothesis-generated requests for one operation; every response passes CHECKS."""
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(path_parameters=path_parameters))
    @FUZZ
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize(("method", "path"), READS, ids=[f"{m} {p}" for m, p in READS])
def test_reads_conform_to_the_schema(api_world, api_schema, method, path):
    """As a project manager, with random ids (mostly 404) and then with this project's id (200s)."""
    headers = {"Authorization": f"Bearer {api_world.tokens['manager']}"}
    fuzz(api_schema, method, path, headers)
    if "{project_id}" in path:
        fuzz(api_schema, method, path, headers, path_parameters={"project_id": api_world.project.id})


@pytest.mark.parametrize(("method", "path"), LABEL_WRITES, ids=[f"{m} {p}" for m, p in LABEL_WRITES])
def test_label_writes_conform_to_the_schema(api_world, api_schema, method, path):
    headers = {"Authorization": f"Bearer {api_world.tokens['annotator']}"}
    fuzz(api_schema, method, path, headers)
    fuzz(api_schema, method, path, headers, path_parameters={"project_id": api_world.project.id})


def test_reads_and_writes_were_all_collected():
    assert len(READS) >= 20 and {m for m, _ in LABEL_WRITES} == {"POST", "PATCH"}


def test_label_writes_on_real_shots_and_labels_conform(api_world, api_schema):
    """Generated bodies aimed at real shots and at the caller's own label, so that the success (201/200) and
    stale-version (409) answers are fuzzed too, not only 400/404."""
    from hypothesis import strategies as st

    from annotation.models import Label

    headers = {"Authorization": f"Bearer {api_world.tokens['annotator']}"}
    pid = api_world.project.id
    shots = [int(s) for s in api_world.shot_ids[:50]]
    own = Label.objects.filter(project=api_world.project, user=api_world.users["annotator"]).first()
    create = api_schema["/api/v1/projects/{project_id}/labels/"]["POST"]
    update = api_schema["/api/v1/projects/{project_id}/labels/{label_id}/"]["PATCH"]
    seen = set()

    @given(case=create.as_strategy(path_parameters={"project_id": pid}), shot=st.sampled_from(shots))
    @FUZZ
    def fuzz_create(case, shot):
        if isinstance(case.body, dict):
            case.body["shot"] = shot
            case.body.pop("classifier_version", None)
        seen.add(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

    @given(
        case=update.as_strategy(path_parameters={"project_id": pid, "label_id": own.id}),
        version=st.integers(1, 3),
    )
    @FUZZ
    def fuzz_update(case, version):
        if isinstance(case.body, dict):
            case.body["version"] = version
            case.body.pop("classifier_version", None)
        seen.add(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

    fuzz_create()
    fuzz_update()
    assert {200, 201} & seen and 409 in seen, seen
