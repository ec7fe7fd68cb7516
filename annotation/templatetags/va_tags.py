"""Small display filters for the annotator pages."""

from django import template

from annotation.selectors import media_url

register = template.Library()

FEED_TITLES = {
    "top_positive": "Top positive",
    "top_negative": "Top negative",
    "borderline": "Borderline",
    "random": "Random",
    "overlap": "Second opinion",
}


@register.filter
def clock(seconds) -> str:
    """12.345 → "0:12.3"; time codes within a video."""
    if seconds is None:
        return ""
    minutes, rest = divmod(float(seconds), 60)
    return f"{int(minutes)}:{rest:04.1f}"


@register.filter
def feed_title(name: str) -> str:
    return FEED_TITLES.get(name, name.replace("_", " ").capitalize())


@register.filter
def media(path: str) -> str:
    """A path under MEDIA_ROOT as a URL ("" stays "")."""
    return media_url(path)
