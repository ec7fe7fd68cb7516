"""Manager and reviewer pages over HTTP: roles, the seeded dashboard and its CSV, the review queue, activity."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone
from sklearn.metrics import cohen_kappa_score

from annotation import quality, scores, training
from annotation.models import LabelEvent, Membership, Role
from annotation.services import Provenance, label_set
from models_app import learning
from tests.factories import UserFactory
from tests.test_permissions import ROLES
from tests.test_training import planted  # noqa: F401 — fixture

MANAGERS = {"manager", "staff"}
REVIEWERS = {"reviewer", "manager", "staff"}


def expected_status(role, allowed, ok=200):
    return ok if role in allowed else 404 if role == "outsider" else 403


@pytest.mark.parametrize("role", ROLES)
def test_roles_on_every_manager_page(client, world, role):
    client.force_login(world.users[role])
    pid = world.project.id
    checks = [
        (client.get(f"/projects/{pid}/manage/"), expected_status(role, MANAGERS)),
        (client.get(f"/projects/{pid}/manage/?export=annotators"), expected_status(role, MANAGERS)),
        (
            client.post(f"/projects/{pid}/manage/overlap/", {"rate_percent": "10", "annotators": "2"}),
            expected_status(role, MANAGERS, ok=302),
        ),
        (client.get(f"/projects/{pid}/review/queue/"), expected_status(role, REVIEWERS)),
        (
            client.post(f"/projects/{pid}/review/queue/resolve/", {"shot": world.shot.id, "value": "negative"}),
            expected_status(role, REVIEWERS, ok=302),
        ),
        (client.get(f"/projects/{pid}/activity/"), expected_status(role, REVIEWERS)),
        (client.get(f"/projects/{pid}/activity/?export=csv"), expected_status(role, REVIEWERS)),
    ]
    assert [r.status_code for r, _ in checks] == [status for _, status in checks]


def test_overlap_form_validates(client, world):
    client.force_login(world.users["manager"])
    url = f"/projects/{world.project.id}/manage/overlap/"
    assert client.post(url, {"rate_percent": "150", "annotators": "2"}).status_code == 400
    assert client.post(url, {"rate_percent": "ten", "annotators": "2"}).status_code == 400
    assert client.post(url, {"rate_percent": "12.5", "annotators": "3"}).status_code == 302
    policy = world.project.overlap_policy
    assert (policy.rate, policy.annotators) == (0.125, 3)
    assert 'value="12.5"' in client.get(f"/projects/{world.project.id}/manage/").content.decode()


def read_csv(response):
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def seed_dashboard(project, shot_ids, truth):
    """Seed a planted project for the dashboard (also for browser tests and screenshots): three annotators,
    x and y label the same 12 shots (y flips 3 of them), x labels 20 more alone, z labels 6 others unsure;
    one trained version with metrics; the agreement computed as the worker would. Returns (users by name,
    {shot: (x value, y value)}, version)."""
    users = {}
    for name in ("x", "y", "z"):
        users[name] = UserFactory(username=name)
        Membership.objects.create(project=project, user=users[name], role=Role.ANNOTATOR)
    values = {}
    for i, (shot_id, positive) in enumerate(zip(shot_ids[:12].tolist(), truth[:12].tolist(), strict=True)):
        x_value = "positive" if positive else "negative"
        y_value = x_value if i % 4 else ("negative" if positive else "positive")
        values[shot_id] = (x_value, y_value)
        label_set(user=users["x"], project_id=project.id, shot_id=shot_id, value=x_value)
        label_set(user=users["y"], project_id=project.id, shot_id=shot_id, value=y_value)
    for shot_id, positive in zip(shot_ids[30:50].tolist(), truth[30:50].tolist(), strict=True):
        label_set(user=users["x"], project_id=project.id, shot_id=shot_id, value="positive" if positive else "negative")
    for shot_id in shot_ids[12:18].tolist():
        label_set(user=users["z"], project_id=project.id, shot_id=shot_id, value="unsure")
    version = training.retrain_run(project.id)
    training.version_metrics_run(version.id)
    quality.agreement_run(project.id)
    return users, values, version


@pytest.fixture
def seeded(planted):  # noqa: F811
    project, shot_ids, truth, _ = planted
    return (project, *seed_dashboard(project, shot_ids, truth))


def test_dashboard_renders_seeded_data_with_charts_and_tables(client, seeded):
    project, users, values, version = seeded
    client.force_login(project.created_by)
    response = client.get(f"/projects/{project.id}/manage/")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<svg") == 2 and f'ws-connect="/ws/projects/{project.id}/"' in page  # live over the websocket
    for name in ("x", "y", "z"):
        assert f"<td>{name}</td>" in page
    for event in ("va:labels-changed", "va:metrics-updated", "va:agreement-updated"):
        assert event in page
    x_values, y_values = zip(*values.values(), strict=True)
    kappa = round(cohen_kappa_score(x_values, y_values), 4)
    assert f"<td>{kappa}</td>" in page

    pairs = read_csv(client.get(f"/projects/{project.id}/manage/?export=agreement_pairs"))
    assert [(p["annotator_a"], p["annotator_b"], p["shared_shots"]) for p in pairs] == [("x", "y", "12")]
    assert float(pairs[0]["cohen_kappa"]) == kappa
    assert float(pairs[0]["raw_agreement"]) == pytest.approx(9 / 12, abs=1e-4)
    assert float(pairs[0]["kappa_ci_low"]) <= kappa <= float(pairs[0]["kappa_ci_high"])

    annotators = {
        row["annotator"]: row for row in read_csv(client.get(f"/projects/{project.id}/manage/?export=annotators"))
    }
    assert annotators["x"]["current_labels"] == "32" and annotators["z"]["unsure"] == "6"
    assert int(annotators["y"]["positive"]) == sum(y == "positive" for _, y in values.values())
    assert annotators["y"]["label_changes"] == "12"

    (row,) = read_csv(client.get(f"/projects/{project.id}/manage/?export=versions"))
    version.refresh_from_db()
    assert row["version"] == "1" and float(row["cv_ap"]) == round(version.metrics["cv_ap"], 4)
    assert int(row["training_labels"]) == version.metrics["positives"] + version.metrics["negatives"]

    (day,) = {r["day"] for r in read_csv(client.get(f"/projects/{project.id}/manage/?export=labels_per_day"))}
    assert day == timezone.localdate().isoformat()
    assert client.get(f"/projects/{project.id}/manage/?export=nope").status_code == 404


def test_dashboard_parts_are_partials_for_htmx(client, seeded):
    project, *_ = seeded
    client.force_login(project.created_by)
    for part, title in (("progress", "Progress"), ("model", "Model quality"), ("agreement", "Agreement")):
        body = client.get(f"/projects/{project.id}/manage/?part={part}", HTTP_HX_REQUEST="true").content.decode()
        assert f"<h2>{title}</h2>" in body and "<html" not in body
        others = {"Progress", "Model quality", "Agreement"} - {title}
        assert not any(f"<h2>{other}</h2>" in body for other in others)
    assert client.get(f"/projects/{project.id}/manage/?part=nope").status_code == 404


@pytest.fixture
def queue_world(planted):  # noqa: F811
    """A trained model; x labels one shot the model is confident is negative as positive (contradiction),
    x and y disagree on another."""
    project, shot_ids, truth, annotator = planted
    x, y, reviewer = annotator, UserFactory(username="y"), UserFactory(username="rev")
    Membership.objects.create(project=project, user=y, role=Role.ANNOTATOR)
    Membership.objects.create(project=project, user=reviewer, role=Role.REVIEWER)
    for shot_id, positive in zip(shot_ids[:16].tolist(), truth[:16].tolist(), strict=True):
        label_set(user=x, project_id=project.id, shot_id=shot_id, value="positive" if positive else "negative")
    version = training.retrain_run(project.id)
    probabilities = scores.version_probabilities(version, shot_ids[16:].tolist())
    confident_negative = min(probabilities, key=probabilities.get)
    assert probabilities[confident_negative] < 0.1
    disputed = int(shot_ids[20])
    label_set(user=x, project_id=project.id, shot_id=confident_negative, value="positive")
    label_set(user=x, project_id=project.id, shot_id=disputed, value="positive")
    label_set(user=y, project_id=project.id, shot_id=disputed, value="negative")
    return project, reviewer, confident_negative, disputed


def test_queue_lists_disagreements_and_model_contradictions(client, queue_world):
    project, reviewer, confident_negative, disputed = queue_world
    client.force_login(reviewer)
    response = client.get(f"/projects/{project.id}/review/queue/")
    queue = response.context["queue"]
    assert {item.shot.id: item.reasons for item in queue.items} == {
        confident_negative: ("model",),
        disputed: ("disagreement",),
    }
    assert queue.counts == {"disagreement": 1, "model": 1}
    page = response.content.decode()  # live: the page holds the project's websocket and re-fetches on changes
    assert f'ws-connect="/ws/projects/{project.id}/"' in page and "va:labels-changed from:body" in page
    item = next(i for i in queue.items if i.shot.id == confident_negative)
    assert item.consensus == "positive" and item.model_score < 0.1
    only_model = client.get(f"/projects/{project.id}/review/queue/?reason=model").context["queue"]
    assert [i.shot.id for i in only_model.items] == [confident_negative]
    partial = client.get(f"/projects/{project.id}/review/queue/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="review-queue"' in partial and "<html" not in partial
    assert client.get(f"/projects/{project.id}/review/queue/?reason=bad").status_code == 400


def test_a_resolution_leaves_the_queue_is_audited_and_wins_the_consensus(client, queue_world):
    project, reviewer, confident_negative, disputed = queue_world
    client.force_login(reviewer)
    response = client.post(
        f"/projects/{project.id}/review/queue/resolve/",
        {"shot": confident_negative, "value": "negative"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert [i.shot.id for i in response.context["queue"].items] == [disputed]
    assert 'name="reason" value=""' in response.content.decode()  # each resolve form keeps the filter
    event = LabelEvent.objects.filter(shot_id=confident_negative).last()
    assert (event.user, event.new_value, event.source, event.page) == (reviewer, "negative", "review", "review-queue")
    assert learning.consensus(training.training_votes(project.id))[confident_negative] is False
    # A later annotator label reopens the question only if it disagrees again.
    label_set(user=project.created_by, project_id=project.id, shot_id=disputed, value="negative")
    client.post(f"/projects/{project.id}/review/queue/resolve/", {"shot": disputed, "value": "negative"})
    assert client.get(f"/projects/{project.id}/review/queue/").context["queue"].total == 0


def test_activity_filters_and_streams_csv(client, world):
    pid, shot = world.project.id, world.shot.id
    label_set(
        user=world.users["annotator"],
        project_id=pid,
        shot_id=shot,
        value="positive",
        provenance=Provenance(source="search", query="cars"),
    )
    label_set(
        user=world.users["reviewer"],
        project_id=pid,
        shot_id=shot,
        value="negative",
        provenance=Provenance(source="review"),
    )
    client.force_login(world.users["manager"])
    today = timezone.localdate()
    cases = {
        "": 2,
        "user=annotator": 1,
        "source=review": 1,
        "value=negative": 1,
        f"from={today}": 2,
        f"from={today + dt.timedelta(days=1)}": 0,
        f"to={today - dt.timedelta(days=1)}": 0,
        f"to={today}&user=reviewer&value=negative&source=review": 1,
        f"shot={shot}": 2,
        f"shot={world.other_shot.id}": 0,
    }
    counts = {q: client.get(f"/projects/{pid}/activity/?{q}").context["page"].paginator.count for q in cases}
    assert counts == cases
    rows = read_csv(client.get(f"/projects/{pid}/activity/?user=annotator&export=csv"))
    assert [(r["annotator"], r["new_value"], r["source"], r["query"]) for r in rows] == [
        ("annotator", "positive", "search", "cars")
    ]
    everything = read_csv(client.get(f"/projects/{pid}/activity/?export=csv"))
    assert [r["annotator"] for r in everything] == ["reviewer", "annotator"]  # newest first
    assert client.get(f"/projects/{pid}/activity/?from=yesterday").status_code == 400


def test_project_page_links_managers_and_reviewers_only(client, world):
    pid = world.project.id
    for role, links in (("manager", 3), ("reviewer", 2), ("annotator", 0)):
        client.force_login(world.users[role])
        page = client.get(f"/projects/{pid}/").content.decode()
        found = sum(f'href="/projects/{pid}/{path}/"' in page for path in ("manage", "review/queue", "activity"))
        assert found == links, role


def test_loading_the_urls_does_not_load_the_embedding_models():
    """The web process resolves its first request after importing every view; pulling torch/open_clip in
    through a view's imports (e.g. annotation.scores → models_app.search) makes that request take ~10 s."""
    import subprocess
    import sys

    code = (
        "import sys, django; django.setup(); import va_site.urls; "
        "print(sorted(m for m in ('torch', 'open_clip') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_resolution_keeps_the_reason_filter_the_reviewer_worked_in(client, queue_world):
    project, reviewer, confident_negative, disputed = queue_world
    client.force_login(reviewer)
    before = client.get(f"/projects/{project.id}/review/queue/?reason=disagreement", HTTP_HX_REQUEST="true")
    assert 'name="reason" value="disagreement"' in before.content.decode()
    after = client.post(
        f"/projects/{project.id}/review/queue/resolve/",
        {"shot": disputed, "value": "negative", "reason": "disagreement"},
        HTTP_HX_REQUEST="true",
    )
    assert after.context["queue"].reason == "disagreement"
    assert disputed not in [i.shot.id for i in after.context["queue"].items]
