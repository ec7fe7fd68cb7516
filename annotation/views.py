"""Thin HTML views: parse input, call one selector or service, render."""

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from annotation import selectors, services
from annotation.errors import StaleVersion
from annotation.models import LabelValue, Role


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


@login_required
def project_detail(request, project_id: int):
    view = selectors.project_get(user=request.user, project_id=project_id)
    return render(
        request,
        "annotation/project_detail.html",
        {
            "view": view,
            "project": view.project,
            "labels": selectors.label_list(user=request.user, project_id=project_id)[:50],
            "versions": selectors.version_list(user=request.user, project_id=project_id),
            "label_values": LabelValue.choices,
        },
    )


@login_required
@require_POST
def label_create(request, project_id: int):
    """Set the user's label on a shot. HTMX posts get a status fragment; others a redirect."""
    try:
        result = services.label_set(
            user=request.user,
            project_id=project_id,
            shot_id=_int_or_none(request.POST.get("shot")) or 0,
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
    if request.htmx:
        return render(request, "annotation/partials/label_saved.html", {"result": result})
    return redirect("project-detail", project_id=project_id)


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
