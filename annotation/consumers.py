"""Websocket consumer per project: members receive the project's live events."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from annotation import selectors
from annotation.realtime import project_group
from models_app.services import corpus_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class ProjectConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        self.project_id = int(self.scope["url_route"]["kwargs"]["project_id"])
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        allowed = await database_sync_to_async(selectors.user_can_view_project)(user=user, project_id=self.project_id)
        if not allowed:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = project_group(self.project_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # The socket is server → client only; answer pings so clients can measure liveness.
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    # Group events are forwarded as they are ("labels.changed" → labels_changed, …).
    async def forward(self, event):
        await self.send_json(event)

    labels_changed = feeds_updated = metrics_updated = training_failed = version_published = forward
    agreement_updated = overlap_changed = forward

    async def membership_removed(self, event):
        """Not forwarded: closes this socket when its user may no longer see the project (staff still may)."""
        user = self.scope["user"]
        if event.get("user_id") != user.id:
            return
        allowed = await database_sync_to_async(selectors.user_can_view_project)(user=user, project_id=self.project_id)
        if not allowed:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.close(code=CLOSE_NOT_FOUND)


class CorpusConsumer(AsyncJsonWebsocketConsumer):
    """Ingestion progress of a corpus' videos, for the corpus page."""

    async def connect(self):
        user = self.scope.get("user")
        corpus_id = int(self.scope["url_route"]["kwargs"]["corpus_id"])
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await database_sync_to_async(selectors.user_can_view_corpus)(user=user, corpus_id=corpus_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = corpus_group(corpus_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def ingest_progress(self, event):
        await self.send_json(event)
