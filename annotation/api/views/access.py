"""Tokens (personal and service accounts) and webhooks with their delivery log."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import tokens, webhooks
from annotation.api.serializers import (
    DeliveryOut,
    ServiceTokenIn,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
)
from annotation.api.views.base import ScopedListView, validated
from annotation.models import ApiToken, Webhook, WebhookDelivery


def _created(issued) -> dict:
    issued.token.token = issued.secret
    return TokenCreatedOut(issued.token).data


@extend_schema(tags=["tokens"])
class TokenList(ScopedListView):
    queryset = ApiToken.objects.none()
    serializer_class = TokenOut

    def rows(self):
        return tokens.token_list(user=self.request.user)

    @extend_schema(request=TokenIn, responses={201: TokenCreatedOut})
    def post(self, request):
        """Create a personal token; the `token` field is the secret, shown only here."""
        data = validated(TokenIn, request.data)
        issued = tokens.token_create(user=request.user, name=data["name"], scope=data["scope"])
        return Response(_created(issued), status=status.HTTP_201_CREATED)


@extend_schema(tags=["tokens"])
class TokenDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, token_id: int):
        tokens.token_revoke(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["tokens"])
class ServiceAccountList(ScopedListView):
    queryset = ApiToken.objects.none()
    serializer_class = TokenOut

    def rows(self):
        return tokens.service_token_list(user=self.request.user, project_id=self.kwargs["project_id"])

    @extend_schema(request=ServiceTokenIn, responses={201: TokenCreatedOut})
    def post(self, request, project_id: int):
        """Create a service account of this project (a user who is a member here only) and its token."""
        data = validated(ServiceTokenIn, request.data)
        issued = tokens.service_token_create(actor=request.user, project_id=project_id, **data)
        return Response(_created(issued), status=status.HTTP_201_CREATED)


@extend_schema(tags=["tokens"])
class ServiceAccountDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, project_id: int, token_id: int):
        """Revoke the token and deactivate its service account."""
        tokens.service_token_revoke(actor=request.user, project_id=project_id, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["webhooks"])
class WebhookList(ScopedListView):
    queryset = Webhook.objects.none()
    serializer_class = WebhookOut

    def rows(self):
        return webhooks.webhook_list(user=self.request.user, project_id=self.kwargs["project_id"])

    @extend_schema(request=WebhookIn, responses={201: WebhookCreatedOut})
    def post(self, request, project_id: int):
        """Register a URL called (POST, HMAC-signed) when a version is published. Managers only."""
        data = validated(WebhookIn, request.data)
        created = webhooks.webhook_create(actor=request.user, project_id=project_id, **data)
        created.webhook.secret = created.secret
        return Response(WebhookCreatedOut(created.webhook).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["webhooks"])
class WebhookDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, project_id: int, webhook_id: int):
        webhooks.webhook_delete(actor=request.user, project_id=project_id, webhook_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["webhooks"])
class DeliveryList(ScopedListView):
    queryset = WebhookDelivery.objects.none()
    serializer_class = DeliveryOut

    def rows(self):
        return webhooks.delivery_list(
            user=self.request.user, project_id=self.kwargs["project_id"], webhook_id=self.kwargs["webhook_id"]
        )
