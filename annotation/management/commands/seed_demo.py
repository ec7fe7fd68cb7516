"""Demo accounts, a demo corpus and a demo project. Idempotent: re-running changes nothing and
prints the same credentials (random passwords, kept in var/demo_credentials.json, never in git)."""

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from annotation.models import Membership, Project, Role
from models_app import embedders
from models_app.ingest.synthetic import make_video, spaced_cuts
from models_app.models import Corpus, Video
from models_app.services import corpus_create, video_enqueue

DEMO_USERS = [
    ("manager", Role.MANAGER, True),
    ("annotator1", Role.ANNOTATOR, False),
    ("annotator2", Role.ANNOTATOR, False),
    ("viewer", Role.VIEWER, False),
]
DEMO_CORPUS = "Demo corpus"
DEMO_PROJECT = "Car chase (demo)"
DEMO_VIDEOS = 8  # synthetic clips of ~20 s with 6–9 hard cuts each: ~60 shots


class Command(BaseCommand):
    help = "Create demo users, corpus and project if missing, and print the demo credentials."

    def handle(self, *args, **options):
        path = settings.VAR_DIR / "demo_credentials.json"
        passwords = json.loads(path.read_text()) if path.exists() else {}
        with transaction.atomic():
            users = {}
            for username, _role, is_staff in DEMO_USERS:
                user = get_user_model().objects.filter(username=username).first()
                if user is None:
                    passwords[username] = secrets.token_urlsafe(9)
                    user = get_user_model().objects.create_user(
                        username=username, password=passwords[username], is_staff=is_staff, is_superuser=is_staff
                    )
                users[username] = user
            corpus = Corpus.objects.filter(name=DEMO_CORPUS).first() or self.create_corpus()
            project, _ = Project.objects.get_or_create(
                corpus=corpus,
                name=DEMO_PROJECT,
                defaults={
                    "created_by": users["manager"],
                    "description": "Positive: a vehicle pursuit is on screen. Negative: anything else.",
                },
            )
            for username, role, _ in DEMO_USERS:
                Membership.objects.get_or_create(project=project, user=users[username], defaults={"role": role})
        self.queue_demo_videos(corpus)
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(passwords, indent=2))
        path.chmod(0o600)
        self.stdout.write(f"Demo project: {project.name!r} on corpus {corpus.name!r}")
        if corpus.is_test_model:
            self.stdout.write(
                f"Embedding model: {corpus.embedding_model} — the TEST model with random weights (offline demo); "
                "for real search set VA_EMBEDDING_MODEL=ViT-B-32 VA_EMBEDDING_PRETRAINED=openai on a new data folder"
            )
        for username, role, _ in DEMO_USERS:
            password = passwords.get(username, "(set before this folder's credentials file existed)")
            self.stdout.write(f"  {role.value:<10} {username:<11} password: {password}")

    def create_corpus(self) -> Corpus:
        config = embedders.configured_embedding()
        return corpus_create(
            name=DEMO_CORPUS,
            embedding_model=config.model,
            embedding_pretrained=config.pretrained,
            dim=embedders.load(config).dim,
            is_test_model=config.is_test_model,
        )

    def queue_demo_videos(self, corpus: Corpus) -> None:
        """On the first start: write synthetic clips (known cuts) and queue them for ingestion."""
        if Video.objects.filter(corpus=corpus).exists():
            return
        folder = settings.VAR_DIR / "demo_videos"
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i in range(DEMO_VIDEOS):
            path = folder / f"demo_{i + 1:02d}.mp4"
            if not path.exists():
                n_frames = 480
                make_video(path, spaced_cuts(n_frames, 6 + i % 4, min_gap=36, seed=i), n_frames, seed=i, style="mixed")
            paths.append(str(path))
        video_enqueue(corpus=corpus, sources=paths)
        self.stdout.write(f"Queued {len(paths)} demo videos for ingestion (watch them on the corpus page)")
