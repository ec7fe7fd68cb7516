"""The manager dashboard with data, in a real browser (screenshot in artifacts/browser/)."""

import numpy as np
from playwright.sync_api import expect

from annotation.models import Label
from tests.browser.test_annotator_flows import other_user_labels
from tests.factories import UserFactory, make_embedded_corpus, make_project
from tests.test_manager_pages import seed_dashboard


def seeded_manager_page(web, manager_name: str, project_name: str, path: str):
    """A project with three annotators' labels and a model; its manager's browser page at `path`."""
    corpus, shot_ids, truth = make_embedded_corpus()
    manager = UserFactory(username=manager_name)
    project = make_project(corpus, manager, project_name)
    users, _, _ = seed_dashboard(project, np.array(shot_ids), truth)
    page = web.page(manager, size="desktop")
    page.goto(f"/projects/{project.id}/{path}/")
    return project, shot_ids, users, page


def test_the_dashboard_shows_charts_and_agreement_and_is_for_managers_only(web):
    project, shot_ids, users, page = seeded_manager_page(web, "dana", "Establishing shots", "manage")
    expect(page.locator("svg.chart").first).to_be_visible()
    assert page.locator("svg.chart").count() >= 2
    expect(page.locator("body")).to_contain_text("Annotator pairs")
    expect(page.locator("body")).to_contain_text(users["x"].username)
    web.screenshot(page, "dashboard")
    # live: another annotator's new label shows up in the progress counts without a reload
    expect(page.locator("body[data-live='1']")).to_have_count(1)  # the websocket is up
    labeled = page.locator("#dash-progress .stats li").first.locator("strong")
    before = int(labeled.inner_text())
    labeled_ids = set(Label.objects.filter(project=project).values_list("shot_id", flat=True))
    fresh = [int(s) for s in shot_ids if int(s) not in labeled_ids][:3]
    # a burst: the throttled refresh takes the first event, the settled one after the burst the last
    for shot in fresh[:2]:
        other_user_labels(users["x"], project.id, shot, "positive")
    expect(labeled).to_have_text(str(before + 2), timeout=10_000)
    # after a reconnect every part re-fetches: a label saved without any push shows up
    Label.objects.create(project=project, shot_id=fresh[2], user=users["y"], value="negative")
    page.evaluate("document.body.dispatchEvent(new CustomEvent('htmx:wsClose'))")
    page.evaluate("document.body.dispatchEvent(new CustomEvent('htmx:wsOpen'))")
    expect(labeled).to_have_text(str(before + 3), timeout=10_000)
    assert not web.console_errors
    annotator = web.page(users["x"])
    assert annotator.goto(f"/projects/{project.id}/manage/").status == 403


def test_the_activity_page_shows_a_new_label_without_a_reload(web):
    project, shot_ids, users, page = seeded_manager_page(web, "erin", "Night exteriors", "activity")
    expect(page.locator("body[data-live='1']")).to_have_count(1)  # the websocket is up
    rows_before = page.locator("#activity tr[data-event]").count()
    fresh_shot = int(shot_ids[-1])
    other_user_labels(users["x"], project.id, fresh_shot, "unsure")
    newest = page.locator("#activity tr[data-event]").first
    expect(newest).to_contain_text(str(fresh_shot), timeout=10_000)
    expect(newest).to_contain_text("unsure")
    assert page.locator("#activity tr[data-event]").count() >= min(rows_before + 1, 50)
    web.screenshot(page, "activity-live")
    assert not web.console_errors
