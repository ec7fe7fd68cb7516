"""Every write of the annotation app: keyword-only, atomic, authorized here."""

import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from annotation import quality, realtime, rows, training, webhooks
from annotation.access import CAN_LABEL, CAN_MANAGE, CAN_REVIEW, access_corpus, access_project
from annotation.errors import NotFound, RoleRequired, StaleVersion
from annotation.models import (
    ClassifierVersion,
    Label,
    LabelEvent,
    LabelSource,
    LabelValue,
    Membership,
    Project,
    Role,
)
from models_app import learning
from models_app.models import Corpus, Shot, Video
from models_app.services import video_enqueue


@dataclass(frozen=True)
class LabelResult:
    label: Label
    event: LabelEvent | None  # None when the submission changed nothing (a double submit)

    @property
    def changed(self) -> bool:
        return self.event is not None


@dataclass(frozen=True)
class Provenance:
    """What the annotator was looking at when labeling."""

    source: str = LabelSource.OTHER
    query: str = ""
    classifier_version_id: int | None = None
    score: float | None = None
    rank: int | None = None
    page: str = ""


def _valid_choice(value: str, choices, field: str) -> str:
    if value not in choices.values:
        raise ValidationError({field: f"{value!r} is not one of {', '.join(choices.values)}"})
    return value


@transaction.atomic
def label_set(
    *,
    user,
    project_id: int,
    shot_id: int,
    value: str,
    provenance: Provenance = Provenance(),
    expected_version: int | None = None,
) -> LabelResult:
    """Set the user's label on a shot and append one LabelEvent per actual change.

    Concurrent calls for the same (project, shot, user) serialize on the label row, so a double
    submit yields one Label and one event. `expected_version` makes the write conditional
    (StaleVersion when the label moved on since the caller read it).
    """
    _valid_choice(value, LabelValue, "value")
    _valid_choice(provenance.source, LabelSource, "source")
    project, role = access_project(user, project_id, allowed=CAN_LABEL)
    is_review = provenance.source == LabelSource.REVIEW
    if is_review and role not in CAN_REVIEW:
        raise RoleRequired("only reviewers and managers record review decisions")
    if (
        provenance.classifier_version_id is not None
        and not ClassifierVersion.objects.filter(pk=provenance.classifier_version_id, project_id=project.id).exists()
    ):
        raise ValidationError({"classifier_version": "not a version of this project"})

    found = _label_insert_or_lock(project, shot_id, user, value, is_review) if rows.fits_bigint(shot_id) else None
    if found is None:
        raise NotFound("shot not found in this project's corpus")
    label, created = found
    if expected_version is not None and not created and label.version != expected_version:
        raise StaleVersion(label.version)
    old_value = "" if created else label.value
    if not created:
        # A reviewer's decision stays a decision when they label that shot again from anywhere else
        # (a feed, the panel): it is their one label row there, and it must keep winning the consensus.
        is_review = is_review or (label.is_review and role in CAN_REVIEW)
        if (label.value, label.is_review) == (value, is_review):
            return LabelResult(label=label, event=None)
        label.value, label.is_review = value, is_review
        label.version += 1
        label.save(update_fields=["value", "is_review", "version", "updated_at"])

    event = rows.insert(  # LabelEvent.objects.create without compiling the INSERT each time
        LabelEvent,
        project_id=project.id,
        shot_id=shot_id,
        user=user,
        label=label,
        old_value=old_value,
        new_value=value,
        source=provenance.source,
        query=provenance.query[:500],
        classifier_version_id=provenance.classifier_version_id,
        score=provenance.score,
        rank=provenance.rank,
        page=provenance.page[:200],
    )
    _push_label_change(project.id, user, event)
    return LabelResult(label=label, event=event)


def _label_insert_or_lock(project, shot_id: int, user, value: str, is_review: bool) -> tuple[Label, bool] | None:
    """The user's label row on the shot, locked until commit: a new one with `value`, or the existing one;
    None when the shot is not in the project's corpus.

    The hot path of every label POST: one INSERT … SELECT … ON CONFLICT DO NOTHING checks the shot and
    inserts a new label, where get_or_create after a shot check took a SELECT, a SELECT FOR UPDATE, a
    savepoint, the INSERT and a release. A concurrent insert of the same key waits on the unique index,
    finds the conflict after the other commits and then locks the committed row, so a double submit still
    yields one label.
    """
    now = timezone.now()
    for _attempt in range(2):  # the second only when an undo deleted the conflicting label in between
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Label._meta.db_table}"
                " (project_id, shot_id, user_id, value, version, is_review, created_at, updated_at)"
                f" SELECT %s, s.id, %s, %s, 1, %s, %s, %s FROM {Shot._meta.db_table} s"
                f" JOIN {Video._meta.db_table} v ON v.id = s.video_id WHERE s.id = %s AND v.corpus_id = %s"
                " ON CONFLICT (project_id, shot_id, user_id) DO NOTHING RETURNING id",
                [project.id, user.id, value, is_review, now, now, shot_id, project.corpus_id],
            )
            inserted = cursor.fetchone()
        if inserted is not None:
            label = Label(id=inserted[0], project_id=project.id, shot_id=shot_id, user=user, value=value, version=1)
            label.is_review, label.created_at, label.updated_at = is_review, now, now
            return label, True
        # A label exists (lock it), or the shot is not in this corpus, or a concurrent undo just deleted
        # the label that conflicted: then the next INSERT succeeds.
        label = Label.objects.select_for_update().filter(project_id=project.id, shot_id=shot_id, user=user).first()
        if label is not None:
            label.user = user
            return label, False
    return None


@dataclass(frozen=True)
class UndoResult:
    shot_id: int
    value: str  # the restored value; "" when the undone label was the first one (the label is gone)
    undone: LabelEvent
    event: LabelEvent


def _push_label_change(project_id: int, user, event: LabelEvent) -> None:
    payload = {
        "shot_id": event.shot_id,
        "user_id": user.id,
        "username": user.get_username(),
        "value": event.new_value,
        "old_value": event.old_value,
        "event_id": event.id,
    }
    transaction.on_commit(lambda: realtime.project_event_send(project_id, "labels.changed", payload), robust=True)
    transaction.on_commit(lambda: training.retrain_schedule(project_id), robust=True)
    transaction.on_commit(lambda: quality.agreement_schedule(project_id), robust=True)


@transaction.atomic
def label_undo(*, user, project_id: int, page: str = "") -> UndoResult | None:
    """Undo the user's latest change in the project that is not undone yet (repeat to go further back).

    A first label is removed; a changed label gets its previous value back. Both append an `undo`
    event that points at the undone one; None when there is nothing left to undo.
    """
    project, _ = access_project(user, project_id, allowed=CAN_LABEL)
    # Serialize a user's undos in this project: racing double presses undo two changes, never one twice.
    Membership.objects.select_for_update().filter(project=project, user=user).first()
    undone = (
        LabelEvent.objects.filter(project=project, user=user, undoes__isnull=True, undone_by__isnull=True)
        .exclude(source=LabelSource.UNDO)
        .order_by("-id")
        .first()
    )
    if undone is None:
        return None
    label = Label.objects.select_for_update().filter(pk=undone.label_id).first()
    current = label.value if label else ""
    if label is not None and not undone.old_value:
        label.delete()
    elif label is not None:
        before = (
            LabelEvent.objects.filter(label_id=label.id, id__lt=undone.id, new_value=undone.old_value)
            .order_by("-id")
            .first()
        )
        label.value = undone.old_value
        label.is_review = before is not None and before.source == LabelSource.REVIEW
        label.version += 1
        label.save(update_fields=["value", "is_review", "version", "updated_at"])
    event = rows.insert(  # LabelEvent.objects.create without compiling the INSERT each time
        LabelEvent,
        project_id=project.id,
        shot_id=undone.shot_id,
        user=user,
        label_id=undone.label_id,
        old_value=current,
        new_value=undone.old_value,
        source=LabelSource.UNDO,
        undoes=undone,
        page=page[:200],
    )
    _push_label_change(project.id, user, event)
    return UndoResult(shot_id=undone.shot_id, value=undone.old_value, undone=undone, event=event)


class ReviewAction:
    CONFIRM = "confirm"  # record the current consensus as the reviewer's decision
    FLIP = "flip"  # record the opposite of the consensus
    POSITIVE = "positive"
    NEGATIVE = "negative"
    UNSURE = "unsure"
    ALL = (CONFIRM, FLIP, POSITIVE, NEGATIVE, UNSURE)


@transaction.atomic
def review_decide(*, user, project_id: int, shot_ids: list[int], action: str, page: str = "review") -> int:
    """Record a reviewer decision on each shot (audit trail + consensus); returns how many changed.

    Confirm and flip read each shot's consensus first; a shot without one (a tie, or only unsure votes)
    cannot be confirmed or flipped and is refused with the others left untouched.
    """
    if action not in ReviewAction.ALL:
        raise ValidationError({"action": f"{action!r} is not one of {', '.join(ReviewAction.ALL)}"})
    if not shot_ids:
        raise ValidationError({"shots": "select at least one shot"})
    project, _ = access_project(user, project_id, allowed=CAN_REVIEW)
    values = _review_values(project.id, sorted(set(shot_ids)), action)
    provenance = Provenance(source=LabelSource.REVIEW, page=page)
    changed = 0
    for shot_id, value in values.items():
        result = label_set(user=user, project_id=project.id, shot_id=shot_id, value=value, provenance=provenance)
        changed += result.changed
    return changed


def _review_values(project_id: int, shot_ids: list[int], action: str) -> dict[int, str]:
    if action not in (ReviewAction.CONFIRM, ReviewAction.FLIP):
        return dict.fromkeys(shot_ids, action)
    rows = Label.objects.filter(project_id=project_id, shot_id__in=shot_ids).values_list(
        "shot_id", "user_id", "value", "is_review", "updated_at"
    )
    decided = learning.consensus(rows)
    undecided = [s for s in shot_ids if s not in decided]
    if undecided:
        raise ValidationError(
            {"shots": f"no consensus to {action} on shot(s) {', '.join(map(str, undecided[:10]))}: choose a value"}
        )
    flip = action == ReviewAction.FLIP
    return {s: LabelValue.POSITIVE if decided[s] != flip else LabelValue.NEGATIVE for s in shot_ids}


@transaction.atomic
def project_create(*, user, corpus_id: int, name: str, description: str = "") -> Project:
    """Staff, or users holding the `annotation.add_project` permission, create projects; the
    creator becomes the project's manager."""
    if not (user.is_staff or user.has_perm("annotation.add_project")):
        raise RoleRequired("you may not create projects")
    corpus = Corpus.objects.filter(pk=corpus_id).first()
    if corpus is None:
        raise NotFound("corpus not found")
    project = Project(corpus=corpus, name=name.strip(), description=description, created_by=user)
    project.full_clean()
    project.save()
    Membership.objects.create(project=project, user=user, role=Role.MANAGER)
    return project


@transaction.atomic
def membership_set(*, actor, project_id: int, user_id: int, role: str) -> Membership:
    """Add a member or change their role. Managers only; the last manager cannot step down."""
    _valid_choice(role, Role, "role")
    project, _ = access_project(actor, project_id, allowed=CAN_MANAGE, lock=True)
    member = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if member is None:
        raise NotFound("user not found")
    membership = Membership.objects.filter(project=project, user=member).first()
    if membership and membership.role == Role.MANAGER and role != Role.MANAGER:
        _ensure_another_manager(project, membership)
    membership, _ = Membership.objects.update_or_create(project=project, user=member, defaults={"role": role})
    return membership


@transaction.atomic
def membership_remove(*, actor, project_id: int, user_id: int) -> None:
    project, _ = access_project(actor, project_id, allowed=CAN_MANAGE, lock=True)
    membership = Membership.objects.filter(project=project, user_id=user_id).first()
    if membership is None:
        raise NotFound("membership not found")
    if membership.role == Role.MANAGER:
        _ensure_another_manager(project, membership)
    membership.delete()
    # The removed member's open sockets close themselves (membership is checked at connect only).
    payload = {"user_id": user_id}
    transaction.on_commit(lambda: realtime.project_event_send(project.id, "membership.removed", payload), robust=True)


def _ensure_another_manager(project: Project, leaving: Membership) -> None:
    others = Membership.objects.filter(project=project, role=Role.MANAGER).exclude(pk=leaving.pk)
    if not others.exists():
        raise ValidationError({"role": "a project needs at least one manager"})


ALLOWED_VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts"}


def video_upload(*, user, corpus_id: int, uploaded) -> Video:
    """Store an uploaded video under MEDIA_ROOT/uploads and queue its ingestion. Managers only.

    Only the name, size and suffix are checked here; the pipeline probes the content and marks
    the video failed with a readable error if it is not a usable video.
    """
    corpus = access_corpus(user, corpus_id, manage=True)
    name = Path(uploaded.name or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_VIDEO_SUFFIXES:
        raise ValidationError({"file": f"{name!r} is not a video file ({', '.join(sorted(ALLOWED_VIDEO_SUFFIXES))})"})
    if uploaded.size == 0:
        raise ValidationError({"file": f"{name!r} is empty"})
    if uploaded.size > settings.VA_MAX_UPLOAD_BYTES:
        raise ValidationError({"file": f"{name!r} is larger than {settings.VA_MAX_UPLOAD_BYTES // 2**20} MiB"})
    folder = Path(settings.MEDIA_ROOT) / "uploads" / f"corpus_{corpus.id}"
    folder.mkdir(parents=True, exist_ok=True)
    safe_stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name).stem)[:80] or "video"
    target = folder / f"{uuid.uuid4().hex[:12]}-{safe_stem}{suffix}"
    with open(target, "wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    try:
        (video,) = video_enqueue(corpus=corpus, sources=[str(target)])
    except Exception:
        target.unlink(missing_ok=True)
        raise
    return video


@transaction.atomic
def version_publish(*, user, project_id: int, version_id: int) -> ClassifierVersion:
    """Make a ready version the one downstream systems get; the previously published one stops being so."""
    project, _ = access_project(user, project_id, allowed=CAN_MANAGE, lock=True)
    version = ClassifierVersion.objects.filter(pk=version_id, project=project).first()
    if version is None:
        raise NotFound("version not found")
    if version.status != ClassifierVersion.Status.READY:
        raise ValidationError({"version": f"version {version.number} is {version.status}, not ready"})
    ClassifierVersion.objects.filter(project=project, published=True).exclude(pk=version.pk).update(published=False)
    if not version.published:
        version.published, version.published_at = True, timezone.now()
        version.save(update_fields=["published", "published_at"])
    payload = {"version_id": version.id, "number": version.number}
    transaction.on_commit(lambda: realtime.project_event_send(project.id, "version.published", payload), robust=True)
    webhooks.deliveries_schedule(project_id=project.id, event="version.published", payload=payload)  # sent on commit
    return version


@transaction.atomic
def project_update(*, user, project_id: int, name: str | None = None, description: str | None = None) -> Project:
    """Managers rename a project or edit its labeling guidelines."""
    project, _ = access_project(user, project_id, allowed=CAN_MANAGE, lock=True)
    if name is not None:
        project.name = name.strip()
    if description is not None:
        project.description = description
    project.full_clean()
    project.save(update_fields=["name", "description"])
    return project


@transaction.atomic
def label_update(
    *, user, project_id: int, label_id: int, value: str, expected_version: int, provenance: Provenance = Provenance()
) -> LabelResult:
    """Change one's own label, conditionally on its version (StaleVersion when it moved on)."""
    project, _ = access_project(user, project_id, allowed=CAN_LABEL)
    label = Label.objects.filter(pk=label_id, project=project).values("user_id", "shot_id").first()
    if label is None:
        raise NotFound("label not found")
    if label["user_id"] != user.id:
        raise RoleRequired("you can only change your own labels (record a review label of your own instead)")
    return label_set(
        user=user,
        project_id=project.id,
        shot_id=label["shot_id"],
        value=value,
        provenance=provenance,
        expected_version=expected_version,
    )
