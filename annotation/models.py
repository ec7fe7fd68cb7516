"""The people side: projects, memberships, labels, the label audit trail, classifier versions."""

import pgtrigger
from django.conf import settings
from django.db import models

from models_app.models import Corpus, Shot


class Role(models.TextChoices):
    MANAGER = "manager"
    REVIEWER = "reviewer"
    ANNOTATOR = "annotator"
    VIEWER = "viewer"


class Project(models.Model):
    """One binary label ("is this shot a car chase?") over one corpus."""

    corpus = models.ForeignKey(Corpus, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="labeling guidelines shown to annotators")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="projects")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["corpus", "name"], name="project_unique_name_per_corpus")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user_per_project")]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} · {self.project}"


class LabelValue(models.TextChoices):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    UNSURE = "unsure"


class LabelSource(models.TextChoices):
    """Where the annotator saw the shot when labeling it (provenance)."""

    SEARCH = "search"
    MORE_LIKE_THIS = "more_like_this"
    TOP_POSITIVE = "top_positive"
    TOP_NEGATIVE = "top_negative"
    BORDERLINE = "borderline"
    RANDOM = "random"
    REVIEW = "review"
    OVERLAP = "overlap"  # the overlap feed: shots another annotator labeled, for agreement
    API = "api"
    UNDO = "undo"
    OTHER = "other"


class ClassifierVersion(models.Model):
    """Weights of a linear probe trained by models_app on a project's labels."""

    class Status(models.TextChoices):
        TRAINING = "training"
        READY = "ready"
        FAILED = "failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(help_text="1, 2, 3… within the project")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TRAINING)
    weights = models.JSONField(default=list, blank=True)
    bias = models.FloatField(default=0.0)
    trained_on = models.JSONField(default=dict, blank=True, help_text="label counts and last label event id")
    metrics = models.JSONField(default=dict, blank=True, help_text="CV average precision, coverage, …")
    feeds = models.JSONField(default=dict, blank=True, help_text="{feed name: {shot_ids, scores}} at training time")
    error = models.TextField(blank=True)
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="version_unique_number_per_project"),
            models.UniqueConstraint(
                fields=["project"], condition=models.Q(published=True), name="version_one_published_per_project"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} v{self.number}"


class Label(models.Model):
    """The current label of one user on one shot in one project. Changed only by label_set."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    shot = models.ForeignKey(Shot, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    value = models.CharField(max_length=16, choices=LabelValue.choices)
    version = models.PositiveIntegerField(default=1, help_text="bumped on every change; for optimistic concurrency")
    is_review = models.BooleanField(
        default=False, help_text="a reviewer's or manager's decision from the review; wins the consensus"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "shot", "user"], name="label_one_per_project_shot_user"),
        ]
        indexes = [models.Index(fields=["project", "shot"])]

    def __str__(self) -> str:
        return f"{self.user} → {self.value} on shot {self.shot_id}"


class LabelEvent(models.Model):
    """Append-only audit row for every label change; the database refuses UPDATE and DELETE."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="label_events")
    shot = models.ForeignKey(Shot, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # No database constraint: undoing a first label deletes the Label, and its events must outlive it.
    label = models.ForeignKey(
        Label, on_delete=models.DO_NOTHING, db_constraint=False, related_name="events", help_text="may be deleted"
    )
    old_value = models.CharField(max_length=16, choices=LabelValue.choices, blank=True)
    new_value = models.CharField(max_length=16, choices=LabelValue.choices, blank=True, help_text="empty: cleared")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Provenance: what the annotator was looking at.
    source = models.CharField(max_length=32, choices=LabelSource.choices, default=LabelSource.OTHER)
    query = models.CharField(max_length=500, blank=True, help_text="search text, when the source is a search")
    classifier_version = models.ForeignKey(
        ClassifierVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    score = models.FloatField(null=True, blank=True, help_text="model score shown")
    rank = models.PositiveIntegerField(null=True, blank=True, help_text="position in the feed or result list")
    page = models.CharField(max_length=200, blank=True, help_text="UI page or API client")
    # Set on an undo event; unique, so one change is undone at most once even under racing undos.
    undoes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by", help_text="undone event"
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "shot", "id"])]
        triggers = [
            pgtrigger.Protect(name="label_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.old_value or '∅'} → {self.new_value} on shot {self.shot_id}"


class OverlapPolicy(models.Model):
    """How much of a project's labeling is done twice (or three times) to measure agreement.

    A shot is in the overlap sample when a keyed hash of (project, shot) falls below `rate`
    (annotation.overlap); such a shot stays open to annotators who have not labeled it until
    `annotators` different people have.
    """

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="overlap_policy")
    rate = models.FloatField(default=0.0, help_text="share of shots labeled by several annotators, 0…1")
    annotators = models.PositiveSmallIntegerField(default=2, help_text="annotators each overlapped shot needs")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate__gte=0.0, rate__lte=1.0), name="overlap_rate_between_0_and_1"
            ),
            models.CheckConstraint(
                condition=models.Q(annotators__gte=2, annotators__lte=3), name="overlap_annotators_2_or_3"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.rate:.0%} × {self.annotators}"

    @property
    def rate_percent(self) -> float:
        return round(self.rate * 100, 2)


class AgreementReport(models.Model):
    """The latest inter-annotator agreement of a project (annotation.agreement.agreement_report's JSON)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="agreement_report")
    report = models.JSONField(default=dict)
    last_event_id = models.BigIntegerField(default=0, help_text="the newest label event the report has seen")
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"agreement of {self.project} (event {self.last_event_id})"


# --- REST API: tokens, idempotency keys, webhooks (issue #6) -----------------------------------------


class ApiToken(models.Model):
    """A bearer token for the REST API, stored hashed: `va_<prefix>_<secret>`, shown once at creation.

    Personal tokens act as their user. Service-account tokens belong to a service user created for
    one project (a member of that project only), so every object-level check applies to them unchanged.
    """

    class Kind(models.TextChoices):
        PERSONAL = "personal"
        SERVICE = "service"

    class Scope(models.TextChoices):
        READ = "read"
        WRITE = "write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PERSONAL)
    project = models.ForeignKey(
        Project,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="service_tokens",
        help_text="the project of a service-account token",
    )
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.WRITE)
    prefix = models.CharField(max_length=16, unique=True, help_text="public part, used to look the token up")
    key_hash = models.CharField(max_length=64, help_text="sha256 hex of the whole token")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="personal", project__isnull=True)
                | models.Q(kind="service", project__isnull=False),
                name="apitoken_service_tokens_have_a_project",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}, va_{self.prefix}_…)"


class IdempotencyKey(models.Model):
    """The first response to a write sent with an `Idempotency-Key` header, replayed for retries."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body")
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key}"


class Webhook(models.Model):
    """A URL of a downstream system called (HMAC-signed) when the project publishes a version."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=1000)
    secret = models.CharField(max_length=100, help_text="HMAC-SHA256 key; shown to the manager once")
    events = models.JSONField(default=list, help_text="event names; empty = all")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.project} → {self.url}"


class WebhookDelivery(models.Model):
    """One event sent to one webhook, with its attempts (the delivery log managers see)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    log = models.JSONField(default=list, help_text="[{at, status_code, error, duration_ms}] per attempt")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook.url} ({self.status})"
