"""Input and output serializers. Outputs describe rows; inputs validate what views pass to services."""

import copy

from rest_framework import serializers

from annotation.models import (
    ApiToken,
    ClassifierVersion,
    Label,
    LabelSource,
    LabelValue,
    Membership,
    Project,
    Role,
    Webhook,
    WebhookDelivery,
)
from annotation.tokens import SERVICE_ROLE_CHOICES
from annotation.webhooks import EVENTS
from models_app.models import Corpus, Shot, Video


class ReusedFields:
    """For flat serializers on hot paths: the fields are built once per class, each instance binds copies.

    DRF deep-copies every declared field for every serializer instance (re-running each field's
    constructor) and a ModelSerializer rebuilds its fields from the model: together a sixth of a label
    POST's CPU (benchmarks/api.py). Binding only needs a field object of the instance's own, so a shallow
    copy of a prototype does. Flat serializers only: a nested serializer would share its bound children.
    """

    def get_fields(self):
        cls = type(self)
        prototypes = cls.__dict__.get("_field_prototypes")
        if prototypes is None:
            prototypes = super().get_fields()
            if any(isinstance(field, serializers.BaseSerializer) for field in prototypes.values()):
                raise TypeError(f"{cls.__name__}: ReusedFields is for flat serializers only")
            cls._field_prototypes = prototypes
        return {name: copy.copy(field) for name, field in prototypes.items()}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField()


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# --- catalog ---------------------------------------------------------------------------------------


class CorpusOut(serializers.ModelSerializer):
    class Meta:
        model = Corpus
        fields = ["id", "name", "description", "embedding_model", "dim", "is_test_model", "created_at"]


class VideoOut(serializers.ModelSerializer):
    class Meta:
        model = Video
        fields = ["id", "corpus", "title", "duration", "fps", "width", "height", "status", "progress", "error"]
        fields += ["created_at", "updated_at"]


class ShotOut(serializers.ModelSerializer):
    class Meta:
        model = Shot
        fields = ["id", "video", "index", "start_frame", "end_frame", "start_s", "end_s", "thumbnail", "preview"]


class VideoUploadIn(serializers.Serializer):
    file = serializers.FileField()


# --- projects --------------------------------------------------------------------------------------


class ProjectOut(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "corpus", "name", "description", "created_by", "created_at"]


class ProjectCreateIn(serializers.Serializer):
    corpus = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ProjectUpdateIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class MembershipOut(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "username", "role", "created_at"]


class MembershipIn(serializers.Serializer):
    user = serializers.IntegerField(min_value=1)
    role = serializers.ChoiceField(choices=Role.choices)


# --- labels ----------------------------------------------------------------------------------------


class LabelOut(ReusedFields, serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Label
        fields = ["id", "project", "shot", "user", "username", "value", "is_review", "version"]
        fields += ["created_at", "updated_at"]


class LabelWriteOut(LabelOut):
    changed = serializers.BooleanField(read_only=True, help_text="false when the label already had this value")

    class Meta(LabelOut.Meta):
        fields = [*LabelOut.Meta.fields, "changed"]


class ProvenanceIn(serializers.Serializer):
    source = serializers.ChoiceField(choices=LabelSource.choices, default=LabelSource.API)
    query = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    classifier_version = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    score = serializers.FloatField(required=False, allow_null=True, default=None, min_value=-1e6, max_value=1e6)
    rank = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0, max_value=2**31 - 1)
    page = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class LabelCreateIn(ReusedFields, ProvenanceIn):
    shot = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    value = serializers.ChoiceField(choices=LabelValue.choices)
    expected_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=2**31 - 1,
        help_text="only change the label if it is still at this version (409 otherwise)",
    )


class LabelUpdateIn(ReusedFields, ProvenanceIn):
    value = serializers.ChoiceField(choices=LabelValue.choices)
    version = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="the version you read (409 if stale)"
    )


class LabelFilterIn(serializers.Serializer):
    value = serializers.ChoiceField(choices=LabelValue.choices, required=False)
    user = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    shot = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    is_review = serializers.BooleanField(required=False, allow_null=True, default=None)
    updated_since = serializers.DateTimeField(required=False)


# --- search and scores -----------------------------------------------------------------------------


class SearchIn(serializers.Serializer):
    text = serializers.CharField(required=False, max_length=500)
    similar_to = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    limit = serializers.IntegerField(required=False, default=24, min_value=1, max_value=100)
    offset = serializers.IntegerField(required=False, default=0, min_value=0, max_value=400)
    exclude_labeled = serializers.BooleanField(required=False, default=True)

    def validate(self, data):
        if bool(data.get("text", "").strip()) == ("similar_to" in data):
            raise serializers.ValidationError("give either a non-empty `text` or `similar_to`")
        return data


class ScoredShotOut(serializers.Serializer):
    shot_id = serializers.IntegerField()
    score = serializers.FloatField()
    rank = serializers.IntegerField()


class SearchOut(serializers.Serializer):
    results = ScoredShotOut(many=True)


class VersionRef(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()


class ScoresOut(serializers.Serializer):
    version = VersionRef()
    count = serializers.IntegerField(help_text="shots matching, before `limit`")
    results = ScoredShotOut(many=True)


class ShotScoreOut(serializers.Serializer):
    version = VersionRef()
    shot_id = serializers.IntegerField()
    score = serializers.FloatField()


class TopKIn(serializers.Serializer):
    k = serializers.IntegerField(min_value=1, max_value=10_000, default=100)


class AboveIn(serializers.Serializer):
    threshold = serializers.FloatField(min_value=1e-6, max_value=1 - 1e-6)
    limit = serializers.IntegerField(min_value=1, max_value=10_000, default=1000)


class ScoreExportIn(serializers.Serializer):
    format = serializers.ChoiceField(choices=["csv", "jsonl"], default="csv")


class LabelExportIn(serializers.Serializer):
    format = serializers.ChoiceField(choices=["csv", "jsonl", "va"], default="csv")
    value = serializers.ChoiceField(choices=LabelValue.choices, required=False)


# --- versions --------------------------------------------------------------------------------------


class VersionOut(serializers.ModelSerializer):
    class Meta:
        model = ClassifierVersion
        fields = ["id", "number", "status", "error", "published", "published_at", "created_at"]


class VersionDetailOut(serializers.ModelSerializer):
    class Meta:
        model = ClassifierVersion
        fields = [*VersionOut.Meta.fields, "metrics", "trained_on", "bias"]


# --- tokens and webhooks ---------------------------------------------------------------------------


class TokenOut(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    display = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "kind", "name", "scope", "project", "username", "display", "created_at", "last_used_at"]
        fields += ["revoked_at"]

    def get_display(self, token) -> str:
        return f"va_{token.prefix}_…"


class TokenCreatedOut(TokenOut):
    token = serializers.CharField(read_only=True, help_text="the secret; shown only in this response")

    class Meta(TokenOut.Meta):
        fields = [*TokenOut.Meta.fields, "token"]


class TokenIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(choices=ApiToken.Scope.choices, default=ApiToken.Scope.WRITE)


class ServiceTokenIn(TokenIn):
    role = serializers.ChoiceField(choices=SERVICE_ROLE_CHOICES, default=Role.VIEWER)
    scope = serializers.ChoiceField(choices=ApiToken.Scope.choices, default=ApiToken.Scope.READ)


class WebhookOut(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "active", "created_at"]


class WebhookCreatedOut(WebhookOut):
    secret = serializers.CharField(read_only=True, help_text="HMAC key; shown only in this response")

    class Meta(WebhookOut.Meta):
        fields = [*WebhookOut.Meta.fields, "secret"]


class WebhookIn(serializers.Serializer):
    url = serializers.URLField(max_length=1000)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS), required=False, default=list)


class DeliveryOut(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "status", "attempts", "last_status_code", "last_error", "log", "payload"]
        fields += ["created_at", "delivered_at"]
