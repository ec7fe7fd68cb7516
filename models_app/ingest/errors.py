"""Errors raised for videos the pipeline cannot ingest.

Every message is meant to be shown to a user as is (it names the problem, not a stack trace).
"""


class IngestError(Exception):
    """Base class: the video cannot be ingested."""


class VideoNotFoundError(IngestError):
    pass


class CorruptVideoError(IngestError):
    """The file is a media container but its data cannot be read or decoded."""


class NotAVideoError(IngestError):
    """The file is not a media container at all (text, image, random bytes...)."""


class NoVideoStreamError(IngestError):
    """The container holds no video stream (e.g. audio only)."""


class EmptyVideoError(IngestError):
    """The video stream holds no decodable frame."""


class UnsupportedResolutionError(IngestError):
    pass
