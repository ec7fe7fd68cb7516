"""Thin HTML views: parse input, call one selector or service, render."""

import csv
import json
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from annotation import overlap, review, scores, selectors, services
from annotation.access import CAN_REVIEW
from annotation.errors import NotFound, StaleVersion
from annotation.models import LabelSource, LabelValue, Role
from models_app.learning import FEED_NAMES as MODEL_FEEDS


def _int_or_none(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError as exc:
        raise ValidationError(f"{raw!r} is not an integer") from exc


def _float_or_none(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError as exc:
        raise ValidationError(f"{raw!r} is not a number") from exc


def _error_text(exc: ValidationError) -> str:
    return "; ".join(exc.messages)


@login_required
def project_list(request):
    return render(request, "annotation/project_list.html", {"projects": selectors.project_list(user=request.user)})


def _project_context(request, project_id: int, tab: str) -> dict:
    """What every project page and card needs: the project and my role (no counts: those are per page)."""
    view = selectors.project_role(user=request.user, project_id=project_id)
    return {"view": view, "project": view.project, "tab": tab, "label_values": LabelValue.values}


@login_required
def project_detail(request, project_id: int):
    view = selectors.project_get(user=request.user, project_id=project_id)
    context = {**_project_context(request, project_id, "overview"), "view": view}
    context["labels"] = selectors.label_list(user=request.user, project_id=project_id)[:50]
    context["versions"] = selectors.version_list(user=request.user, project_id=project_id)
    return render(request, "annotation/project_detail.html", context)


@login_required
def project_search(request, project_id: int):
    """Text search, or "more like this" (?similar=<shot id>); HTMX requests get the result grid only."""
    context = _project_context(request, project_id, "search")
    text = request.GET.get("q", "").strip()[:300]
    similar = _int_or_none(request.GET.get("similar"))
    cards = []
    if text or similar:
        hits = scores.project_search(user=request.user, project_id=project_id, text=text, similar_to=similar)
        cards = selectors.shot_cards(
            user=request.user,
            project_id=project_id,
            shot_ids=[h.shot_id for h in hits],
            source=LabelSource.MORE_LIKE_THIS if similar else LabelSource.SEARCH,
            query=f"shot {similar}" if similar else text,
            ranks={h.shot_id: h.rank for h in hits},
            scores={h.shot_id: h.score for h in hits},
        )
    context.update(cards=cards, query=text, similar=similar, searched=bool(text or similar))
    if request.htmx and request.htmx.target == "results":
        return render(request, "annotation/partials/shot_grid.html", context)
    return render(request, "annotation/project_search.html", context)


def _feed_context(request, project_id: int) -> dict:
    feeds = list(MODEL_FEEDS)
    if overlap.policy_of(project_id).rate > 0:  # the manager asked for shots labeled by several people
        feeds.append(overlap.OVERLAP_FEED)
    feed = request.GET.get("feed", feeds[0])
    if feed not in feeds:
        raise NotFound(f"no feed {feed!r}")
    version, page = scores.feed_page(user=request.user, project_id=project_id, feed=feed)
    cards = selectors.shot_cards(
        user=request.user,
        project_id=project_id,
        shot_ids=[s.shot_id for s in page],
        source=feed,
        ranks={s.shot_id: s.rank for s in page},
        scores={s.shot_id: s.score for s in page},
        version_id=version.id if version else None,
    )
    return {"feed": feed, "feeds": feeds, "cards": cards, "version": version, "removes_labeled": True}


@login_required
def project_annotate(request, project_id: int):
    """The four feeds of the latest model; HTMX requests (feed switch, live refresh) get the grid only."""
    context = _project_context(request, project_id, "annotate")
    context.update(_feed_context(request, project_id))
    if request.htmx and request.htmx.target == "results":
        return render(request, "annotation/partials/shot_grid.html", context)
    return render(request, "annotation/project_annotate.html", context)


@login_required
def model_status(request, project_id: int):
    status = selectors.model_status(user=request.user, project_id=project_id)
    return render(request, "annotation/partials/model_status.html", {"status": status})


def _card_provenance(params) -> dict:
    """Where a card was shown (posted back with labels, or passed when re-rendering one card)."""
    source = params.get("source", LabelSource.OTHER)
    if source not in LabelSource.values:
        raise ValidationError({"source": f"{source!r} is not a label source"})
    shot = _int_or_none(params.get("shot"))
    rank, score = _int_or_none(params.get("rank")), _float_or_none(params.get("score"))
    return {
        "source": source,
        "query": params.get("query", ""),
        "ranks": {shot: rank} if shot is not None and rank is not None else None,
        "scores": {shot: score} if shot is not None and score is not None else None,
        "version_id": _int_or_none(params.get("classifier_version")),
    }


@login_required
def shot_card(request, project_id: int, shot_id: int):
    """One card re-rendered (e.g. after another annotator labeled it), keeping where it was shown."""
    try:
        provenance = _card_provenance({**request.GET.dict(), "shot": str(shot_id)})
    except ValidationError as exc:
        return HttpResponse(_error_text(exc), status=400, content_type="text/plain")
    cards = selectors.shot_cards(user=request.user, project_id=project_id, shot_ids=[shot_id], **provenance)
    if not cards:
        raise NotFound("shot not found in this project's corpus")
    context = _project_context(request, project_id, "")
    return render(request, "annotation/partials/shot_card.html", {**context, "card": cards[0]})


@login_required
def shot_detail(request, project_id: int, shot_id: int):
    try:
        provenance = _card_provenance({**request.GET.dict(), "shot": str(shot_id)})
    except ValidationError as exc:
        return HttpResponse(_error_text(exc), status=400, content_type="text/plain")
    card, history = selectors.shot_detail(user=request.user, project_id=project_id, shot_id=shot_id, **provenance)
    context = _project_context(request, project_id, "")
    return render(request, "annotation/partials/shot_detail.html", {**context, "card": card, "events": history})


@login_required
@require_POST
def label_create(request, project_id: int):
    """Set the user's label on a shot. HTMX posts get the re-rendered card; others a redirect."""
    shot_id = _int_or_none(request.POST.get("shot")) or 0
    try:
        result = services.label_set(
            user=request.user,
            project_id=project_id,
            shot_id=shot_id,
            value=request.POST.get("value", ""),
            provenance=services.Provenance(
                source=request.POST.get("source", "other"),
                query=request.POST.get("query", ""),
                classifier_version_id=_int_or_none(request.POST.get("classifier_version")),
                score=_float_or_none(request.POST.get("score")),
                rank=_int_or_none(request.POST.get("rank")),
                page=request.POST.get("page", "web"),
            ),
            expected_version=_int_or_none(request.POST.get("expected_version")),
        )
    except ValidationError as exc:
        return HttpResponse(_error_text(exc), status=400, content_type="text/plain")
    except StaleVersion as exc:
        return HttpResponse(str(exc), status=409, content_type="text/plain")
    if not request.htmx:
        return redirect("project-detail", project_id=project_id)
    provenance = _card_provenance(request.POST)
    cards = selectors.shot_cards(user=request.user, project_id=project_id, shot_ids=[shot_id], **provenance)
    context = {**_project_context(request, project_id, ""), "card": cards[0]}
    response = render(request, "annotation/partials/shot_card.html", context)
    response["HX-Trigger"] = json.dumps({"va-labeled": {"shot_id": shot_id, "value": result.label.value}})
    return response


@login_required
@require_POST
def label_undo(request, project_id: int):
    """Undo my latest label change in the project (Z); says what was undone."""
    result = services.label_undo(user=request.user, project_id=project_id, page=request.POST.get("page", "web"))
    if result is None:
        return HttpResponse("Nothing to undo.", content_type="text/plain")
    response = HttpResponse(
        f"Undid shot {result.shot_id}: now {result.value or 'unlabeled'}.", content_type="text/plain"
    )
    response["HX-Trigger"] = json.dumps({"va-undone": {"shot_id": result.shot_id, "value": result.value}})
    return response


@login_required
def project_review(request, project_id: int):
    """Every labeled shot with filters; HTMX requests (filter, page) get the table only."""
    return _review_response(request, project_id, request.GET)


def _review_response(request, project_id: int, params):
    context = _project_context(request, project_id, "review")
    try:
        filters = review.ReviewFilters.from_query(params)
    except ValidationError as exc:
        return HttpResponse(_error_text(exc), status=400, content_type="text/plain")
    page = review.review_page(
        user=request.user, project_id=project_id, filters=filters, page=_int_or_none(params.get("page")) or 1
    )
    context.update(
        page=page,
        filters=filters,
        filter_query=urlencode(filters.as_query()),
        members=selectors.membership_list(user=request.user, project_id=project_id),
        sources=LabelSource.choices,
        can_review=context["view"].role in CAN_REVIEW,
    )
    if request.htmx and request.htmx.target == "review-table":
        return render(request, "annotation/partials/review_table.html", context)
    return render(request, "annotation/project_review.html", context)


@login_required
@require_POST
def review_decide(request, project_id: int):
    """Bulk confirm / flip / set for the selected shots; HTMX gets the table again."""
    try:
        shot_ids = [int(s) for s in request.POST.getlist("shot")]
    except ValueError:
        return HttpResponse("shot ids must be integers", status=400, content_type="text/plain")
    try:
        changed = services.review_decide(
            user=request.user, project_id=project_id, shot_ids=shot_ids, action=request.POST.get("action", "")
        )
    except ValidationError as exc:
        return HttpResponse(_error_text(exc), status=400, content_type="text/plain")
    if not request.htmx:
        return redirect("project-review", project_id=project_id)
    response = _review_response(request, project_id, request.POST)  # the form carries the filters
    response["HX-Trigger"] = json.dumps({"va-toast": {"text": f"Recorded {changed} review decision(s)."}})
    return response


class _Echo:
    def write(self, value):
        return value


@login_required
def review_export(request, project_id: int):
    """The filtered review as CSV, one row per annotator's label, streamed."""
    try:
        filters = review.ReviewFilters.from_query(request.GET)
    except ValidationError as exc:
        return HttpResponse(_error_text(exc), status=400, content_type="text/plain")
    rows = review.review_export(user=request.user, project_id=project_id, filters=filters)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="project-{project_id}-review.csv"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def project_members(request, project_id: int):
    """Members of a project; managers add members and change roles here."""
    error = ""
    if request.method == "POST":
        user_model = get_user_model()
        try:
            action = request.POST.get("action", "set")
            username = request.POST.get("username", "").strip()
            member = user_model.objects.filter(username=username).only("id").first()
            member_id = member.id if member else 0
            if action == "remove":
                services.membership_remove(actor=request.user, project_id=project_id, user_id=member_id)
            else:
                services.membership_set(
                    actor=request.user, project_id=project_id, user_id=member_id, role=request.POST.get("role", "")
                )
        except ValidationError as exc:
            error = _error_text(exc)
        else:
            return redirect("project-members", project_id=project_id)
    view = selectors.project_get(user=request.user, project_id=project_id)
    return render(
        request,
        "annotation/project_members.html",
        {
            "view": view,
            "project": view.project,
            "memberships": selectors.membership_list(user=request.user, project_id=project_id),
            "roles": Role.choices,
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def shot_history(request, project_id: int, shot_id: int):
    events = selectors.shot_label_history(user=request.user, project_id=project_id, shot_id=shot_id)
    return render(request, "annotation/partials/shot_history.html", {"events": events, "shot_id": shot_id})


@login_required
def corpus_detail(request, corpus_id: int):
    view = selectors.corpus_get(user=request.user, corpus_id=corpus_id)
    return render(request, "annotation/corpus_detail.html", {"view": view, "corpus": view.corpus})


@login_required
def corpus_progress(request, corpus_id: int):
    """The video table alone, re-fetched by the page when a progress event arrives."""
    view = selectors.corpus_get(user=request.user, corpus_id=corpus_id)
    return render(request, "annotation/partials/video_table.html", {"view": view})


@login_required
@require_POST
def corpus_upload(request, corpus_id: int):
    files = request.FILES.getlist("file")
    if not files:
        return HttpResponse("choose at least one video file", status=400, content_type="text/plain")
    errors = []
    for uploaded in files:
        try:
            services.video_upload(user=request.user, corpus_id=corpus_id, uploaded=uploaded)
        except ValidationError as exc:
            errors.append(_error_text(exc))
    if errors:
        return HttpResponse("\n".join(errors), status=400, content_type="text/plain")
    return redirect("corpus-detail", corpus_id=corpus_id)


@login_required
@require_POST
def version_publish(request, project_id: int, version_id: int):
    try:
        services.version_publish(user=request.user, project_id=project_id, version_id=version_id)
    except ValidationError as exc:
        return HttpResponse(_error_text(exc), status=400, content_type="text/plain")
    return redirect("project-detail", project_id=project_id)
