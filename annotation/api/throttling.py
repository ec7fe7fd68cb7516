"""Per-token (or per-user, for sessions) rate limits by scope, counted in Redis/Valkey so that every web
replica shares them: a fixed one-minute window per (scope, token), one INCR per request.

Scopes: `read` (GETs), `write` (other methods), `export` (the streamed downloads), `search`.
Rates per minute come from the settings (VA_API_RATE_<SCOPE>, e.g. VA_API_RATE_WRITE=1200).
"""

import time
from functools import lru_cache

import redis
from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

from annotation.models import ApiToken

WINDOW_S = 60


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def scope_of(request, view) -> str:
    return getattr(view, "throttle_scope", None) or ("read" if request.method in SAFE_METHODS else "write")


class ScopedTokenThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return True  # refused by authentication anyway
        scope = scope_of(request, view)
        limit = settings.VA_API_RATES.get(scope)
        if not limit:
            return True
        token = request.auth
        ident = f"t{token.pk}" if isinstance(token, ApiToken) else f"u{request.user.pk}"
        now = time.time()
        window = int(now // WINDOW_S)
        key = f"{settings.VA_API_THROTTLE_PREFIX}:{scope}:{ident}:{window}"
        pipe = _redis().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, WINDOW_S + 5)
        count, _ = pipe.execute()
        self._wait = (window + 1) * WINDOW_S - now
        return count <= limit

    def wait(self) -> float:
        return getattr(self, "_wait", None)
