"""The annotator's day in a real browser: log in, search, label with the keyboard, live retrain, review,
and what viewers and outsiders may not do. Each flow saves screenshots under artifacts/browser/."""

import re
import threading

import numpy as np
import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from annotation import training
from annotation.models import Label, LabelEvent, Membership, Role
from annotation.services import label_set
from models_app import embedders
from models_app.embedding import TEST_MODEL_NAME
from models_app.services import ShotRecord, corpus_create, shots_replace
from tests.factories import UserFactory, VideoFactory, make_project
from tests.workers import celery_worker

QUERY = "a red sports car"
N_SHOTS, PLANTED_EVERY = 240, 30


def _thumbnail(index: int, planted: bool) -> str:
    """A small JPEG per shot under MEDIA_ROOT (red for planted shots), so cards look like cards."""
    relative = f"test-thumbs/{index}.jpg"
    path = settings.MEDIA_ROOT / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = (200, 30, 40) if planted else tuple(int(c) for c in np.random.default_rng(index).integers(40, 200, 3))
    image = Image.new("RGB", (320, 180), colour)
    ImageDraw.Draw(image).text((12, 12), f"shot {index}", fill=(255, 255, 255))
    image.save(path, quality=80)
    return relative


def _preview(index: int) -> str:
    """A 1 s H.264 preview written by the pipeline's own encoder (a red frame that brightens)."""
    from fractions import Fraction

    import av

    from models_app.ingest.media import write_preview

    frames = [
        av.VideoFrame.from_ndarray(np.full((180, 320, 3), (120 + 5 * i, 20, 30), dtype=np.uint8), format="rgb24")
        for i in range(24)
    ]
    relative = f"test-previews/{index}.mp4"
    (settings.MEDIA_ROOT / relative).parent.mkdir(parents=True, exist_ok=True)
    write_preview(frames, settings.MEDIA_ROOT / relative, frame_rate=Fraction(24))
    return relative


@pytest.fixture
def catalog():
    """A corpus embedded with the test model whose planted shots sit next to QUERY's text embedding;
    a project with one member per role."""
    embedder = embedders.load(embedders.EmbeddingConfig(model=TEST_MODEL_NAME, pretrained=""))
    target = embedder.embed_texts([QUERY])[0]
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(N_SHOTS, len(target))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    planted = set(range(0, N_SHOTS, PLANTED_EVERY))
    rows = sorted(planted)
    vectors[rows] = target + 0.05 * vectors[rows]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    corpus = corpus_create(name="browser", embedding_model=TEST_MODEL_NAME, dim=len(target), is_test_model=True)
    # Every shot gets a thumbnail; the planted ones a preview too, as ingested shots have.
    records = [
        ShotRecord(
            i * 24,
            i * 24 + 24,
            i,
            i + 1,
            thumbnail=_thumbnail(i, i in planted),
            preview=_preview(i) if i in planted else "",
        )
        for i in range(N_SHOTS)
    ]
    video = VideoFactory(corpus=corpus, title="Night drive")
    shot_ids = shots_replace(video=video, shots=records, vectors=vectors)
    manager = UserFactory(username="maria")
    project = make_project(corpus, manager, "Car chases")
    people = {"manager": manager}
    for role in (Role.ANNOTATOR, Role.REVIEWER, Role.VIEWER):
        people[role.value] = UserFactory(username=f"{role.value}-bob")
        Membership.objects.create(project=project, user=people[role.value], role=role)
    return project, shot_ids, {shot_ids[i] for i in rows}, people


def other_user_labels(user, project_id: int, shot_id: int, value: str) -> None:
    """label_set from another thread: this one runs Playwright's event loop, and the websocket push after
    commit (async_to_sync) cannot run inside a thread that has a running loop."""
    from django.db import connection

    def work():
        try:
            label_set(user=user, project_id=project_id, shot_id=shot_id, value=value)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)


def _train_first_model(project, shot_ids, planted, user):
    for shot in sorted(planted)[:3]:
        label_set(user=user, project_id=project.id, shot_id=shot, value="positive")
    for shot in [s for s in shot_ids if s not in planted][:3]:
        label_set(user=user, project_id=project.id, shot_id=shot, value="negative")
    return training.retrain_run(project.id)


def test_log_in_and_see_my_projects(web, catalog):
    project, *_, people = catalog
    # Hashed with the server's default hasher (the tests' fast MD5 hasher is not enabled there).
    people["annotator"].password = PBKDF2PasswordHasher().encode("a-long-test-password", "browsertestsalt")
    people["annotator"].save()
    page = web.page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", people["annotator"].username)
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    expect(page.locator("body")).to_contain_text("didn't match")
    page.fill("input[name=password]", "a-long-test-password")
    page.click("button[type=submit]")
    expect(page.get_by_role("link", name=project.name)).to_be_visible()
    web.screenshot(page, "projects")
    assert not web.console_errors


def test_search_finds_the_planted_shots_and_labels_from_the_grid(web, catalog):
    project, _, planted, people = catalog
    page = web.page(people["annotator"], size="desktop")
    page.goto(f"/projects/{project.id}/search/")
    expect(page.locator("body[data-live='1']")).to_have_count(1)  # the websocket is up
    page.keyboard.press("/")
    page.keyboard.type(QUERY)
    page.keyboard.press("Enter")
    cards = page.locator("[data-grid] .shot")
    expect(cards.first).to_be_visible()
    first_ids = [int(cards.nth(i).get_attribute("data-shot")) for i in range(len(planted))]
    assert set(first_ids) == planted
    expect(page).to_have_url(re.compile(r"q=a(\+|%20)red(\+|%20)sports"))
    # One click labels; the card shows my label, the event carries the query and rank.
    cards.first.locator("[data-label=positive]").click()
    expect(page.locator(f"#shot-{first_ids[0]}.mine-positive")).to_be_visible()
    event = LabelEvent.objects.get(user=people["annotator"], shot_id=first_ids[0])
    assert (event.source, event.query, event.rank) == ("search", QUERY, 1)
    # Hovering a card plays its preview, muted and looped; leaving pauses it.
    cards.nth(2).hover()
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-grid] .shot:nth-child(3) video.preview');"
        " return v && !v.paused && v.muted && v.loop && v.readyState >= 2; }"
    )
    page.mouse.move(5, 5)
    assert page.evaluate("document.querySelector('[data-grid] .shot:nth-child(3) video.preview').paused")
    # Another annotator's label shows up on the visible card, live.
    other_user_labels(people["manager"], project.id, first_ids[3], "negative")
    expect(page.locator(f"#shot-{first_ids[3]}")).to_contain_text("others +0 −1")
    # Clicking the thumbnail opens the detail panel with its history and "more like this".
    cards.nth(1).locator(".thumb").click()
    expect(page.locator("#detail .shot-detail")).to_be_visible()
    expect(page.locator("#detail").get_by_role("link", name="More like this")).to_be_visible()
    web.screenshot(page, "search")
    assert not web.console_errors


def test_label_five_shots_with_the_keyboard_and_undo(web, catalog):
    project, shot_ids, planted, people = catalog
    version = _train_first_model(project, shot_ids, planted, people["manager"])
    page = web.page(people["annotator"])
    page.goto(f"/projects/{project.id}/annotate/?feed=random")
    expect(page.locator("#model-status [data-state=ready]")).to_contain_text(f"v{version.number}")
    cards = page.locator("[data-grid] .shot")
    expect(cards.first).to_be_visible()
    before = cards.count()
    shown = [int(cards.nth(i).get_attribute("data-shot")) for i in range(5)]
    page.keyboard.press("j")  # focus the first card
    expect(page.locator(f"#shot-{shown[0]}")).to_be_focused()
    keys = ["p", "n", "p", "u", "n"]
    for n, key in enumerate(keys, 1):
        page.keyboard.press(key)
        expect(cards).to_have_count(before - n)  # the labeled card leaves the feed
    expect(cards.first).to_be_focused()
    mine = LabelEvent.objects.filter(user=people["annotator"]).order_by("id")
    assert [(e.shot_id, e.new_value[0], e.source, e.classifier_version_id) for e in mine] == [
        (shot, key, "random", version.id) for shot, key in zip(shown, keys, strict=True)
    ]
    assert [e.rank for e in mine] == sorted(e.rank for e in mine)
    web.screenshot(page, "labeled")
    page.keyboard.press("z")  # undo the last label: the shot comes back
    expect(page.locator(f"#shot-{shown[4]}")).to_be_visible()
    assert not Label.objects.filter(user=people["annotator"], shot_id=shown[4]).exists()
    assert not web.console_errors


def test_a_failed_save_shows_an_error_and_keeps_the_card(web, catalog):
    project, shot_ids, planted, people = catalog
    _train_first_model(project, shot_ids, planted, people["manager"])
    page = web.page(people["annotator"])
    page.goto(f"/projects/{project.id}/annotate/?feed=borderline")
    card = page.locator("[data-grid] .shot").first
    expect(card).to_be_visible()
    shot = card.get_attribute("data-shot")
    Membership.objects.filter(project=project, user=people["annotator"]).update(role=Role.VIEWER)  # revoked meanwhile
    card.locator("[data-label=negative]").click()
    expect(page.locator(f"#shot-{shot} .card-error")).to_contain_text("Not saved")
    expect(page.locator(".toast.error")).to_be_visible()
    assert not Label.objects.filter(user=people["annotator"], shot_id=shot).exists()
    web.screenshot(page, "save-failed")


def test_a_retrain_pushed_over_the_websocket_refreshes_the_feed(web, catalog):
    """Another annotator's labels reach the worker; the new model's feeds.updated refreshes this page."""
    project, shot_ids, planted, people = catalog
    page = web.page(people["annotator"], size="desktop")
    page.goto(f"/projects/{project.id}/annotate/")
    expect(page.locator("[data-grid]")).to_contain_text("No model yet")
    expect(page.locator("body[data-live='1']")).to_have_count(1)
    with celery_worker("default"):
        for shot in sorted(planted)[:2]:
            other_user_labels(people["manager"], project.id, shot, "positive")
        other_user_labels(people["manager"], project.id, shot_ids[1], "negative")
        expect(page.locator("[data-grid] .shot").first).to_be_visible(timeout=60_000)
        expect(page.locator("#model-status [data-state=ready]")).to_contain_text("v", timeout=30_000)
    # Keyboard focus survives the next refresh.
    page.keyboard.press("j")
    focused = page.evaluate("(window.__before = document.activeElement).dataset.shot")
    with page.expect_response(lambda r: "/annotate/?feed=" in r.url) as refresh:
        page.evaluate("document.body.dispatchEvent(new CustomEvent('va:feeds-updated'))")
    assert refresh.value.ok
    # the refreshed grid is in (its cards are new elements) and focus is back on the same shot's new card
    page.wait_for_function(
        """(shot) => {
            const card = document.querySelector(`[data-grid] .shot[data-shot='${shot}']`);
            return card && card !== window.__before && document.activeElement === card;
        }""",
        arg=focused,
        timeout=10_000,
    )
    web.screenshot(page, "refreshed")
    assert not web.console_errors


def test_a_reviewer_flips_a_label(web, catalog):
    project, shot_ids, planted, people = catalog
    shot = sorted(planted)[0]
    for who in ("annotator", "manager"):
        label_set(user=people[who], project_id=project.id, shot_id=shot, value="positive")
    label_set(user=people["annotator"], project_id=project.id, shot_id=shot_ids[1], value="negative")
    page = web.page(people["reviewer"])
    page.goto(f"/projects/{project.id}/review/")
    expect(page.locator("#review-queue")).to_be_visible()  # the disagreement queue sits on top
    row = page.locator(f"#review-table tr[data-shot='{shot}']")
    expect(row).to_contain_text("positive")
    page.locator("select[name=value]").select_option("positive")
    expect(page.locator(f"#review-table tr[data-shot='{shot_ids[1]}']")).to_have_count(0)
    row.locator("input[name=shot]").check()
    page.get_by_role("button", name="Flip").click()
    expect(row).to_contain_text("✔review")
    decision = Label.objects.get(user=people["reviewer"], shot_id=shot)
    assert (decision.value, decision.is_review) == ("negative", True)
    web.screenshot(page, "review")
    assert not web.console_errors


def test_a_viewer_cannot_label(web, catalog):
    project, shot_ids, planted, people = catalog
    _train_first_model(project, shot_ids, planted, people["manager"])
    page = web.page(people["viewer"])
    page.goto(f"/projects/{project.id}/annotate/")
    expect(page.locator("[data-grid] .shot").first).to_be_visible()
    assert page.locator("[data-label]").count() == 0
    page.keyboard.press("j")
    page.keyboard.press("p")
    token = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")
    forged = page.request.post(
        f"/projects/{project.id}/labels/",
        form={"shot": str(shot_ids[5]), "value": "positive"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert forged.status == 403
    assert not Label.objects.filter(user=people["viewer"]).exists()
    web.screenshot(page, "viewer")


def test_a_non_member_gets_404_pages_and_no_websocket(web, catalog):
    project, *_ = catalog
    page = web.page(UserFactory(username="stranger"))
    for path in ("", "search/", "annotate/", "review/"):
        response = page.goto(f"/projects/{project.id}/{path}")
        assert response.status == 404, path
    page.goto("/")
    expect(page.get_by_role("link", name=project.name)).to_have_count(0)
    outcome = page.evaluate(
        """(path) => new Promise((resolve) => {
            const socket = new WebSocket("ws://" + location.host + path);
            socket.onopen = () => resolve("open");
            socket.onclose = (event) => resolve(event.code);
        })""",
        f"/ws/projects/{project.id}/",
    )
    assert outcome != "open"  # the handshake is refused (the consumer closes before accepting)
    web.screenshot(page, "outsider")
