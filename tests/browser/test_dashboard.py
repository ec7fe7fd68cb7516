"""The manager dashboard with data, in a real browser (screenshot in artifacts/browser/)."""

import numpy as np
from playwright.sync_api import expect

from tests.factories import UserFactory, make_embedded_corpus, make_project
from tests.test_manager_pages import seed_dashboard


def test_the_dashboard_shows_charts_and_agreement_and_is_for_managers_only(web):
    corpus, shot_ids, truth = make_embedded_corpus()
    manager = UserFactory(username="dana")
    project = make_project(corpus, manager, "Establishing shots")
    users, _, version = seed_dashboard(project, np.array(shot_ids), truth)
    page = web.page(manager, size="desktop")
    page.goto(f"/projects/{project.id}/manage/")
    expect(page.locator("svg.chart").first).to_be_visible()
    assert page.locator("svg.chart").count() >= 2
    expect(page.locator("body")).to_contain_text("Annotator pairs")
    expect(page.locator("body")).to_contain_text(users["x"].username)
    web.screenshot(page, "dashboard")
    assert not web.console_errors
    annotator = web.page(users["x"])
    assert annotator.goto(f"/projects/{project.id}/manage/").status == 403
