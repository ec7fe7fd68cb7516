"""Manager and reviewer pages: dashboard (+ CSV), overlap settings, review queue, activity (+ CSV).

Thin: parse, call one selector or service, render. HTMX requests get the partial that the page
re-fetches on websocket events; `?export=<table>` streams that table as CSV.
"""

import csv
import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from annotation import dashboard, overlap, review_queue, services
from annotation.errors import NotFound
from annotation.models import LabelSource, LabelValue

ACTIVITY_PAGE_SIZE = 50


class _Echo:
    def write(self, value):
        return value


def _csv_response(filename: str, header, rows) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _bad_request(exc: Exception) -> HttpResponse:
    text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return HttpResponse(text, status=400, content_type="text/plain")


@login_required
def project_dashboard(request, project_id: int):
    part = request.GET.get("part", "")
    export = request.GET.get("export", "")
    if part and part not in dashboard.PARTS:
        raise NotFound(f"no dashboard part {part!r}")
    board = dashboard.dashboard_get(
        user=request.user, project_id=project_id, parts=(part,) if part else dashboard.PARTS
    )
    if export:
        table = board.tables.get(export)
        if table is None:
            raise NotFound(f"no table {export!r}")
        return _csv_response(f"project-{project_id}-{export}.csv", table.header, table.rows)
    context = {"board": board, "project": board.project}
    if part and request.htmx:
        return render(request, f"annotation/manage/_{part}.html", context)
    return render(request, "annotation/manage/dashboard.html", context)


@login_required
@require_POST
def overlap_update(request, project_id: int):
    try:
        rate = float(request.POST.get("rate_percent", "")) / 100
        annotators = int(request.POST.get("annotators", ""))
        overlap.overlap_set(user=request.user, project_id=project_id, rate=rate, annotators=annotators)
    except ValueError:
        return HttpResponse(
            "the rate (percent) and the annotators must be numbers", status=400, content_type="text/plain"
        )
    except ValidationError as exc:
        return _bad_request(exc)
    return redirect("manage-dashboard", project_id=project_id)


@login_required
def queue(request, project_id: int):
    # After a resolution (POST) the queue re-renders with the reason filter the reviewer was working in.
    params = request.POST if request.method == "POST" else request.GET
    try:
        result = review_queue.review_queue(
            user=request.user,
            project_id=project_id,
            reason=params.get("reason", ""),
            offset=max(int(params.get("offset", 0) or 0), 0),
        )
    except ValueError as exc:
        return _bad_request(exc)
    context = {"queue": result, "project_id": project_id, "label_values": LabelValue.choices}
    if request.htmx:
        return render(request, "annotation/manage/_queue.html", context)
    return render(request, "annotation/manage/review_queue.html", {**context, "project": result.project})


@login_required
@require_POST
def queue_resolve(request, project_id: int):
    """A reviewer's decision on a queued shot; HTMX gets the refreshed queue partial."""
    try:
        services.label_set(
            user=request.user,
            project_id=project_id,
            shot_id=int(request.POST.get("shot", "0") or 0),
            value=request.POST.get("value", ""),
            provenance=services.Provenance(source=LabelSource.REVIEW, page="review-queue"),
        )
    except (ValueError, ValidationError) as exc:
        return _bad_request(exc)
    if request.htmx:
        return queue(request, project_id)
    return redirect("review-queue", project_id=project_id)


def _date(raw: str | None) -> dt.date | None:
    return dt.date.fromisoformat(raw) if raw else None


@login_required
def activity(request, project_id: int):
    try:
        filters = dashboard.ActivityFilter(
            username=request.GET.get("user", "").strip(),
            date_from=_date(request.GET.get("from")),
            date_to=_date(request.GET.get("to")),
            source=request.GET.get("source", ""),
            value=request.GET.get("value", ""),
            shot_id=int(request.GET["shot"]) if request.GET.get("shot") else None,
        )
    except ValueError as exc:
        return _bad_request(exc)
    events = dashboard.activity_list(user=request.user, project_id=project_id, filters=filters)
    if request.GET.get("export") == "csv":
        rows = (dashboard.activity_row(e) for e in events.iterator(chunk_size=2000))
        return _csv_response(f"project-{project_id}-activity.csv", dashboard.ACTIVITY_HEADER, rows)
    page = Paginator(events, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "filters": filters,
        "query": query.urlencode(),
        "project_id": project_id,
        "choices": dashboard.activity_choices(user=request.user, project_id=project_id),
    }
    if request.htmx:
        return render(request, "annotation/manage/_activity.html", context)
    return render(request, "annotation/manage/activity.html", context)
