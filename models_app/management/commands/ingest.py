"""manage.py ingest PATH... --corpus NAME [--wait]: queue videos for ingestion on the embed queue."""

import glob
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from models_app import embedders
from models_app.models import Corpus, Video
from models_app.services import corpus_create, video_enqueue

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts"}
FINISHED = {Video.Status.DONE, Video.Status.FAILED}


def expand(patterns: list[str]) -> list[str]:
    """Files as given, video files inside folders (recursively), and glob matches; absolute, unique."""
    found: dict[str, None] = {}
    for pattern in patterns:
        matches = glob.glob(pattern, recursive=True) or [pattern]
        for match in map(Path, matches):
            if match.is_dir():
                for child in sorted(match.rglob("*")):
                    if child.is_file() and child.suffix.lower() in VIDEO_SUFFIXES:
                        found[str(child.resolve())] = None
            elif match.exists():
                found[str(match.resolve())] = None
            else:
                raise CommandError(f"{pattern}: no such file, folder or glob match")
    return list(found)


class Command(BaseCommand):
    help = "Queue video files for ingestion (decode, shots, thumbnails, previews, embeddings)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="files, folders or glob patterns")
        parser.add_argument("--corpus", help="corpus name (created with the configured model)")
        parser.add_argument(
            "--resume", action="store_true", help="re-queue every unfinished video (after a crash or restart)"
        )
        parser.add_argument("--wait", action="store_true", help="show progress until every video is done")
        parser.add_argument("--force", action="store_true", help="re-ingest videos that are already done")

    def handle(self, *args, paths, corpus, wait, force, resume, **options):
        if resume:
            self.resume()
            if not paths:
                return
        if not paths or not corpus:
            raise CommandError("give PATH... and --corpus NAME (or --resume)")
        sources = expand(paths)
        target = Corpus.objects.filter(name=corpus).first() or self.create_corpus(corpus)
        if target.is_test_model:
            self.stdout.write(
                self.style.WARNING(
                    f"corpus {target.name!r} uses the TEST embedding model {target.embedding_model} (random weights): "
                    "search and scores are meaningless; set VA_EMBEDDING_MODEL / VA_EMBEDDING_PRETRAINED for real use"
                )
            )
        videos = video_enqueue(corpus=target, sources=sources, force=force)
        queued = [v for v in videos if v.status == Video.Status.QUEUED]
        self.stdout.write(
            f"{len(queued)} video(s) queued, {len(videos) - len(queued)} already done, corpus {target.name!r}"
        )
        if wait and queued:
            self.wait([v.id for v in queued])

    def resume(self) -> None:
        """Videos left queued or half-done (a worker killed, the broker flushed) go back on the queue.
        The task is idempotent, so a video that was in fact still queued is only ingested once."""
        unfinished = Video.objects.exclude(status__in=FINISHED).select_related("corpus")
        by_corpus: dict[Corpus, list[str]] = {}
        for video in unfinished:
            by_corpus.setdefault(video.corpus, []).append(video.source)
        for target, sources in by_corpus.items():
            video_enqueue(corpus=target, sources=sources)
        if by_corpus:
            self.stdout.write(f"re-queued {sum(map(len, by_corpus.values()))} unfinished video(s)")

    def create_corpus(self, name: str) -> Corpus:
        config = embedders.configured_embedding()
        dim = embedders.load(config).dim  # strict for real models: unusable weights stop us here
        self.stdout.write(f"creating corpus {name!r} with {config.model} ({dim}-d)")
        return corpus_create(
            name=name,
            embedding_model=config.model,
            embedding_pretrained=config.pretrained,
            dim=dim,
            is_test_model=config.is_test_model,
        )

    def wait(self, video_ids: list[int]) -> None:
        total = len(video_ids) * 100
        with tqdm(total=total, unit="%", desc="ingesting", file=self.stdout) as bar:
            while True:
                rows = list(Video.objects.filter(pk__in=video_ids).values_list("status", "progress"))
                done = sum(100 if status in FINISHED else progress for status, progress in rows)
                bar.update(done - bar.n)
                if all(status in FINISHED for status, _ in rows):
                    break
                time.sleep(0.5)
        for video in Video.objects.filter(pk__in=video_ids).order_by("id"):
            if video.status == Video.Status.FAILED:
                self.stdout.write(self.style.ERROR(f"failed: {video.source}: {video.error}"))
            else:
                self.stdout.write(f"done:   {video.source}: {video.shots.count()} shots")
