"""Agreement recomputed on the worker as labels arrive (debounced per project), stored and pushed.

Scheduling (trailing debounce, one Redis key per project): the first label of a quiet project sets
`pending` for AGREEMENT_DELAY_MS and queues one run at the end of that window; labels inside the window
find the key and add nothing. The run clears the key before it reads the labels, so a label committed
after that read schedules the next run: every label is seen, a burst costs one computation.
A run stores its report only if it saw newer label events than the stored one (runs may overlap).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from annotation import realtime
from annotation.agreement import agreement_report
from annotation.models import AgreementReport, Label, LabelEvent, Project
from annotation.training import _redis

AGREEMENT_DELAY_MS = 500
N_BOOT = 1000


def _pending_key(project_id: int) -> str:
    return f"va:agreement:{int(project_id)}:pending"


def agreement_schedule(project_id: int) -> bool:
    """Queue an agreement run unless one is already queued. True if this call queued it."""
    from annotation.tasks import project_agreement

    if not _redis().set(_pending_key(project_id), 1, nx=True, px=AGREEMENT_DELAY_MS * 20):
        return False
    project_agreement.apply_async(args=[project_id], countdown=AGREEMENT_DELAY_MS / 1000)
    return True


def agreement_run(project_id: int) -> AgreementReport | None:
    """Compute the project's agreement from its annotators' current labels (review decisions are
    resolutions, not ratings, and are left out), store it, and push `agreement.updated`."""
    _redis().delete(_pending_key(project_id))
    if not Project.objects.filter(pk=project_id).exists():
        return None
    last_event_id = LabelEvent.objects.filter(project_id=project_id).aggregate(m=Max("id"))["m"] or 0
    ratings = Label.objects.filter(project_id=project_id, is_review=False).values_list("shot_id", "user_id", "value")
    report = agreement_report(ratings, n_boot=N_BOOT, seed=project_id)
    with transaction.atomic():
        stored, _ = AgreementReport.objects.select_for_update().get_or_create(project_id=project_id)
        if stored.last_event_id > last_event_id:
            return stored  # a run that saw newer labels already stored its report
        stored.report, stored.last_event_id = report, last_event_id
        stored.save()
        payload = {
            "last_event_id": last_event_id,
            "n_shots_overlapped": report["n_shots_overlapped"],
            "krippendorff_alpha": report["project"]["krippendorff_alpha"]["value"],
        }
        transaction.on_commit(
            lambda: realtime.project_event_send(project_id, "agreement.updated", payload), robust=True
        )
    return stored
