"""Demo accounts, a demo corpus and a demo project. Idempotent: re-running changes nothing and
prints the same credentials (random passwords, kept in var/demo_credentials.json, never in git)."""

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from annotation.models import Membership, Project, Role
from models_app.models import Corpus
from models_app.services import corpus_create

DEMO_USERS = [
    ("manager", Role.MANAGER, True),
    ("annotator1", Role.ANNOTATOR, False),
    ("annotator2", Role.ANNOTATOR, False),
    ("viewer", Role.VIEWER, False),
]
DEMO_CORPUS = "Demo corpus"
DEMO_PROJECT = "Car chase (demo)"


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
            corpus = Corpus.objects.filter(name=DEMO_CORPUS).first() or corpus_create(
                name=DEMO_CORPUS,
                embedding_model=settings.VA_EMBEDDING_MODEL,
                embedding_pretrained=settings.VA_EMBEDDING_PRETRAINED,
                dim=512,
            )
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
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(passwords, indent=2))
        path.chmod(0o600)
        self.stdout.write(f"Demo project: {project.name!r} on corpus {corpus.name!r}")
        for username, role, _ in DEMO_USERS:
            password = passwords.get(username, "(set before this folder's credentials file existed)")
            self.stdout.write(f"  {role.value:<10} {username:<11} password: {password}")
