"""The annotator pages through HTTP: search, feeds, labeling with provenance, undo, review, status chip."""

import csv
import io
import json

import pytest

from annotation import scores, training
from annotation.models import Label, LabelEvent, Membership, Role
from annotation.services import label_set, label_undo
from models_app import learning
from tests.factories import UserFactory
from tests.test_scores_and_search import trained  # noqa: F401 — fixture
from tests.test_training import label_some, planted  # noqa: F401 — fixture

HX = {"HTTP_HX_REQUEST": "true"}


def hx_target(target: str) -> dict:
    return {**HX, "HTTP_HX_TARGET": target}


@pytest.fixture
def team(trained):  # noqa: F811
    """The trained project with an annotator, a reviewer and a viewer besides the manager."""
    project, shot_ids, truth, _annotator, version = trained
    people = {"manager": project.created_by}
    for role in (Role.ANNOTATOR, Role.REVIEWER, Role.VIEWER):
        people[role.value] = UserFactory(username=f"{role.value}-{project.id}")
        Membership.objects.create(project=project, user=people[role.value], role=role)
    return project, [int(s) for s in shot_ids], truth, people, version


def test_annotate_tab_shows_a_feed_of_unlabeled_cards_with_provenance(team, client):
    project, _, _, people, version = team
    client.force_login(people["annotator"])
    page = client.get(f"/projects/{project.id}/annotate/?feed=top_positive").content.decode()
    labeled = set(Label.objects.filter(project=project).values_list("shot_id", flat=True))
    card_ids = [int(chunk.split('"')[0]) for chunk in page.split('data-shot="')[1:]]
    assert card_ids and not labeled & set(card_ids)
    assert f"v{version.number}" in client.get(f"/projects/{project.id}/status/").content.decode()
    assert 'data-label="positive"' in page and 'ws-connect="/ws/projects/' in page
    # The grid partial alone for a feed switch, with the provenance each label will carry.
    grid = client.get(f"/projects/{project.id}/annotate/?feed=borderline", **hx_target("results")).content.decode()
    assert "<html" not in grid and "borderline" in grid and f"&quot;classifier_version&quot;: {version.id}" in grid
    assert client.get(f"/projects/{project.id}/annotate/?feed=nope").status_code == 404


def test_a_label_posted_from_a_card_records_its_provenance_and_returns_the_card(team, client):
    project, _, _, people, version = team
    client.force_login(people["annotator"])
    grid = client.get(f"/projects/{project.id}/annotate/?feed=borderline", **hx_target("results")).content.decode()
    shot_id = int(grid.split('data-shot="')[1].split('"')[0])
    response = client.post(
        f"/projects/{project.id}/labels/",
        {"shot": shot_id, "value": "positive", "source": "borderline", "rank": 1, "score": 0.51},
        **HX,
        HTTP_HX_TARGET=f"shot-{shot_id}",
    )
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"])["va-labeled"] == {"shot_id": shot_id, "value": "positive"}
    assert 'data-mine="positive"' in response.content.decode()
    event = LabelEvent.objects.get(shot_id=shot_id, user=people["annotator"])
    assert (event.source, event.rank, event.score) == ("borderline", 1, pytest.approx(0.51))
    bad = client.post(f"/projects/{project.id}/labels/", {"shot": shot_id, "value": "maybe"}, **HX)
    assert bad.status_code == 400 and "maybe" in bad.content.decode()


def test_the_detail_panel_opened_from_a_feed_card_labels_with_the_cards_provenance(team, client):
    import html

    project, _, _, people, version = team
    client.force_login(people["annotator"])
    grid = client.get(f"/projects/{project.id}/annotate/?feed=top_positive", **hx_target("results")).content.decode()
    card = grid.split('<article class="shot')[1]
    detail_url = html.unescape(card.split('hx-get="')[1].split('"')[0])  # the thumbnail opens the panel
    assert "source=top_positive" in detail_url and f"classifier_version={version.id}" in detail_url
    panel = client.get(detail_url, **hx_target("detail")).content.decode()
    post_values = json.loads(html.unescape(panel.split('hx-vals="')[1].split('"')[0]))
    assert post_values["source"] == "top_positive" and post_values["classifier_version"] == version.id
    assert post_values["rank"] == 1 and post_values["score"] is not None
    response = client.post(f"/projects/{project.id}/labels/", {**post_values, "value": "positive"}, **HX)
    assert response.status_code == 200
    event = LabelEvent.objects.get(shot_id=post_values["shot"], user=people["annotator"])
    assert (event.source, event.rank, event.classifier_version_id) == ("top_positive", 1, version.id)
    assert client.get(f"/projects/{project.id}/shots/{post_values['shot']}/?source=bogus").status_code == 400


def test_search_tab_renders_more_like_this_cards_and_the_detail_panel(team, client):
    project, shot_ids, _, people, _ = team
    client.force_login(people["viewer"])
    page = client.get(f"/projects/{project.id}/search/?similar={shot_ids[3]}").content.decode()
    assert page.count('class="shot') >= 10 and "More like shot" in page
    assert "data-label=" not in page  # a viewer gets no label buttons
    detail = client.get(f"/projects/{project.id}/shots/{shot_ids[3]}/").content.decode()
    assert f"?similar={shot_ids[3]}" in detail and "History" in detail
    empty = client.get(f"/projects/{project.id}/search/").content.decode()
    assert "Type a description" in empty


def test_undo_removes_a_first_label_and_restores_a_changed_one(team):
    project, shot_ids, _, people, _ = team
    user, (a, b) = people["annotator"], shot_ids[200:202]
    label_set(user=user, project_id=project.id, shot_id=a, value="positive")
    label_set(user=user, project_id=project.id, shot_id=b, value="negative")
    label_set(user=user, project_id=project.id, shot_id=b, value="positive")
    first = label_undo(user=user, project_id=project.id)
    assert (first.shot_id, first.value) == (b, "negative")
    assert Label.objects.get(project=project, shot_id=b, user=user).value == "negative"
    second = label_undo(user=user, project_id=project.id)  # b's first label
    assert (second.shot_id, second.value) == (b, "")
    assert not Label.objects.filter(project=project, shot_id=b, user=user).exists()
    third = label_undo(user=user, project_id=project.id)
    assert third.shot_id == a and not Label.objects.filter(project=project, shot_id=a, user=user).exists()
    assert label_undo(user=user, project_id=project.id) is None
    # Every step stays in the audit trail, each undo pointing at what it undid.
    undos = LabelEvent.objects.filter(user=user, source="undo").order_by("id")
    assert [(e.old_value, e.new_value) for e in undos] == [("positive", "negative"), ("negative", ""), ("positive", "")]
    assert [e.undoes.new_value for e in undos] == ["positive", "negative", "positive"]
    # A shot that lost its only label is labelable again, from scratch.
    again = label_set(user=user, project_id=project.id, shot_id=b, value="unsure")
    assert again.event.old_value == "" and again.label.version == 1


def test_undo_over_http_and_roles(team, client):
    project, shot_ids, _, people, _ = team
    client.force_login(people["viewer"])
    assert client.post(f"/projects/{project.id}/labels/undo/", **HX).status_code == 403
    client.force_login(UserFactory())
    assert client.post(f"/projects/{project.id}/labels/undo/", **HX).status_code == 404
    client.force_login(people["annotator"])
    assert client.post(f"/projects/{project.id}/labels/undo/", **HX).content == b"Nothing to undo."
    label_set(user=people["annotator"], project_id=project.id, shot_id=shot_ids[5], value="positive")
    response = client.post(f"/projects/{project.id}/labels/undo/", **HX)
    assert json.loads(response["HX-Trigger"])["va-undone"] == {"shot_id": shot_ids[5], "value": ""}


@pytest.fixture
def disputed(team):
    """Two annotators disagree on shots 280-282 and agree (positive) on 283."""
    project, shot_ids, truth, people, version = team
    for shot in shot_ids[280:284]:
        label_set(user=people["annotator"], project_id=project.id, shot_id=shot, value="positive")
    for shot in shot_ids[280:283]:
        label_set(user=people["manager"], project_id=project.id, shot_id=shot, value="negative")
    label_set(user=people["manager"], project_id=project.id, shot_id=shot_ids[283], value="positive")
    return project, shot_ids, people


def review_shot_ids(client, project, query: str = "") -> list[int]:
    page = client.get(f"/projects/{project.id}/review/?{query}", **hx_target("review-table")).content.decode()
    return [int(chunk.split('"')[0]) for chunk in page.split('<tr data-shot="')[1:]]


def test_review_filters(disputed, client):
    project, shot_ids, people = disputed
    client.force_login(people["viewer"])
    assert set(review_shot_ids(client, project, "disagree=1")) == set(shot_ids[280:283])
    mine = review_shot_ids(client, project, f"annotator={people['annotator'].id}")
    assert set(shot_ids[280:284]) <= set(mine)
    everything = review_shot_ids(client, project)
    assert len(everything) == min(50, Label.objects.filter(project=project).values("shot_id").distinct().count())
    assert set(review_shot_ids(client, project, "value=negative&source=other")) >= set(shot_ids[280:283])
    assert client.get(f"/projects/{project.id}/review/?since=yesterday").status_code == 400
    # The model's most confident positive, labeled negative: the model disagrees with that consensus.
    top, second = scores.feed_page(user=people["viewer"], project_id=project.id, feed="top_positive", limit=2)[1]
    label_set(user=people["annotator"], project_id=project.id, shot_id=top.shot_id, value="negative")
    label_set(user=people["annotator"], project_id=project.id, shot_id=second.shot_id, value="positive")
    flagged = set(review_shot_ids(client, project, "model_disagrees=1"))
    assert top.shot_id in flagged and second.shot_id not in flagged


def test_reviewers_confirm_and_flip_and_the_decision_wins_the_consensus(disputed, client):
    project, shot_ids, people = disputed
    url = f"/projects/{project.id}/review/decide/"
    client.force_login(people["annotator"])
    assert client.post(url, {"shot": [shot_ids[283]], "action": "flip"}, **HX).status_code == 403
    client.force_login(people["reviewer"])
    # No consensus on a tied shot: refused, and nothing recorded for the others either.
    tied = client.post(url, {"shot": [shot_ids[280], shot_ids[283]], "action": "confirm"}, **HX)
    assert tied.status_code == 400 and str(shot_ids[280]) in tied.content.decode()
    assert not Label.objects.filter(user=people["reviewer"]).exists()
    response = client.post(url, {"shot": [shot_ids[283]], "action": "flip", "disagree": "1"}, **HX)
    assert response.status_code == 200 and "1 review decision" in response["HX-Trigger"]
    decision = Label.objects.get(user=people["reviewer"], shot_id=shot_ids[283])
    assert (decision.value, decision.is_review) == ("negative", True)
    assert LabelEvent.objects.get(user=people["reviewer"], shot_id=shot_ids[283]).source == "review"
    assert learning.consensus(training.training_votes(project.id))[shot_ids[283]] is False
    client.post(url, {"shot": [shot_ids[280], shot_ids[281]], "action": "positive"}, **HX)
    flipped = client.get(f"/projects/{project.id}/review/?disagree=1", **hx_target("review-table")).content.decode()
    assert "✔review" in flipped


def test_review_export_streams_one_row_per_label(disputed, client):
    project, shot_ids, people = disputed
    client.force_login(people["viewer"])
    response = client.get(f"/projects/{project.id}/review/export.csv?disagree=1")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:6] == ["shot_id", "video", "start_s", "end_s", "annotator", "value"]
    assert sorted((int(r[0]), r[4], r[5]) for r in rows[1:]) == sorted(
        [(s, people["annotator"].username, "positive") for s in shot_ids[280:283]]
        + [(s, people["manager"].username, "negative") for s in shot_ids[280:283]]
    )


def test_status_chip_says_training_while_a_newer_label_waits_for_its_model(team, client):
    project, shot_ids, _, people, version = team
    client.force_login(people["viewer"])
    chip = client.get(f"/projects/{project.id}/status/").content.decode()
    assert 'data-state="ready"' in chip and f"v{version.number}" in chip
    label_set(user=people["annotator"], project_id=project.id, shot_id=shot_ids[250], value="negative")
    assert 'data-state="training"' in client.get(f"/projects/{project.id}/status/").content.decode()
    newer = training.retrain_run(project.id)
    chip = client.get(f"/projects/{project.id}/status/").content.decode()
    assert 'data-state="ready"' in chip and f"v{newer.number}" in chip


def test_every_new_page_is_404_for_non_members(team, client):
    project, shot_ids, *_ = team
    client.force_login(UserFactory())
    for path in ("search/?q=x", "annotate/", "review/", "review/export.csv", "status/", f"shots/{shot_ids[0]}/"):
        assert client.get(f"/projects/{project.id}/{path}").status_code == 404, path
    assert (
        client.post(f"/projects/{project.id}/review/decide/", {"shot": [shot_ids[0]], "action": "flip"}).status_code
        == 404
    )


def test_project_list_shows_progress_and_the_model_of_my_projects_only(team, client):
    project, _, _, people, version = team
    client.force_login(people["viewer"])
    page = client.get("/").content.decode()
    labeled = Label.objects.filter(project=project).values("shot_id").distinct().count()
    assert project.name in page and f"<td>{labeled}</td>" in page and f"v{version.number}" in page
    client.force_login(UserFactory())
    assert project.name not in client.get("/").content.decode()


def test_model_scores_agree_between_the_database_and_the_matrix_paths(team):
    from annotation.shot_scores import MATRIX_MIN_SHOTS, version_probabilities

    project, shot_ids, _, _, version = team
    assert len(shot_ids) > MATRIX_MIN_SHOTS
    from_matrix = version_probabilities(version, shot_ids)
    from_rows = {}
    for start in range(0, len(shot_ids), MATRIX_MIN_SHOTS - 1):
        from_rows |= version_probabilities(version, shot_ids[start : start + MATRIX_MIN_SHOTS - 1])
    assert from_matrix.keys() == from_rows.keys() == set(shot_ids)
    assert max(abs(from_matrix[s] - from_rows[s]) for s in shot_ids) < 1e-5


def test_with_overlap_on_the_annotate_tab_offers_shots_others_labeled_never_mine(team, client):
    from annotation.overlap import overlap_set

    project, shot_ids, _, people, _ = team
    client.force_login(people["annotator"])
    assert "Second opinion" not in client.get(f"/projects/{project.id}/annotate/").content.decode()
    overlap_set(user=people["manager"], project_id=project.id, rate=1.0, annotators=2)
    label_set(user=people["manager"], project_id=project.id, shot_id=shot_ids[260], value="positive")
    label_set(user=people["annotator"], project_id=project.id, shot_id=shot_ids[261], value="positive")
    page = client.get(f"/projects/{project.id}/annotate/?feed=overlap").content.decode()
    assert "Second opinion" in page
    assert f'data-shot="{shot_ids[260]}"' in page and f'data-shot="{shot_ids[261]}"' not in page
