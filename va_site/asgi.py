"""ASGI entry point: Django views over HTTP, Channels consumers over websockets."""

import os

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "va_site.settings")
django.setup(set_prefix=False)


class SyncViewsASGIHandler(ASGIHandler):
    """Django's ASGI handler, running the middleware chain and the view as one call on the request's thread.

    Every view and middleware of this site is sync. Django's own handler builds the chain in async mode,
    so each middleware that can run both ways hops to the request's sync thread and back for its
    process_request and process_response, and the view hops once more: about a dozen thread hand-offs
    per request, a large share of a small request's CPU. Here the chain is built sync and entered once.
    """

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


django_asgi_app = SyncViewsASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from annotation.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
