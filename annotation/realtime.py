"""Project events pushed to websocket groups. Call only after commit (services use on_commit)."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def project_group(project_id: int) -> str:
    return f"project.{int(project_id)}"


def project_event_send(project_id: int, event_type: str, payload: dict) -> None:
    """Send `{"type": event_type, **payload}` to every socket of the project.

    A channel-layer outage must not undo or fail a committed write; it is logged instead.
    """
    layer = get_channel_layer()
    try:
        async_to_sync(layer.group_send)(project_group(project_id), {"type": event_type, **payload})
        logger.debug("pushed %s to %s", event_type, project_group(project_id))
    except Exception:
        logger.exception("could not push %s to project %s", event_type, project_id)
