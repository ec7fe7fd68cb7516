"""Streamed downloads that keep memory flat under both servers.

Django's StreamingHttpResponse collects a *sync* iterator into a list when served by ASGI (and an async
one when served by WSGI). So under ASGI the chunks are pulled one at a time through an async iterator.
"""

from collections.abc import Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse

from annotation.exports import Export


class _AsyncChunks:
    def __init__(self, chunks: Iterator[bytes], thread_sensitive: bool):
        self._next = sync_to_async(lambda: next(chunks, None), thread_sensitive=thread_sensitive)

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        chunk = await self._next()
        if chunk is None:
            raise StopAsyncIteration
        return chunk


def stream_export(request, export: Export, *, uses_database: bool) -> StreamingHttpResponse:
    """`uses_database`: the chunks run queries, so they must run on Django's one sync thread (ASGI)."""
    raw = getattr(request, "_request", request)
    content = (
        _AsyncChunks(export.chunks, thread_sensitive=uses_database) if isinstance(raw, ASGIRequest) else export.chunks
    )
    response = StreamingHttpResponse(content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    if export.rows is not None:
        response["X-Row-Count"] = str(export.rows)
    if export.version is not None:
        response["X-Classifier-Version"] = str(export.version.number)
        response["X-Classifier-Version-Id"] = str(export.version.id)
    return response
