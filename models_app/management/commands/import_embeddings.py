"""manage.py import_embeddings EMBEDDINGS --shots shot-data.csv --corpus NAME [--model NAME] [--keys keys.csv]"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from models_app.imports import EmbeddingImportError, embeddings_import, load_files, validate
from models_app.models import Corpus
from models_app.services import corpus_create


class Command(BaseCommand):
    help = "Import shots and their embeddings (.npy + keys CSV, Parquet, or HDF5 like VA's embeddings.h5)."

    def add_arguments(self, parser):
        parser.add_argument("embeddings", help=".npy, .parquet, .h5 / .hdf5")
        parser.add_argument("--shots", required=True, help="shot table CSV (key or yt_id+frame_in, time range)")
        parser.add_argument("--keys", help="keys CSV for a .npy file (default: beside it)")
        parser.add_argument("--corpus", required=True)
        parser.add_argument(
            "--model", default="imported", help="embedding model name recorded for a new corpus (e.g. ViT-L-14)"
        )
        parser.add_argument("--pretrained", default="", help="its pretrained tag, so text search can encode queries")

    def handle(self, *args, embeddings, shots, keys, corpus, model, pretrained, **options):
        try:
            key_list, vectors, spans = load_files(embeddings, keys_path=keys, shots_path=shots)
            with transaction.atomic():  # a new corpus too: all or nothing
                count, target = self.run_import(corpus, model, pretrained, key_list, vectors, spans)
        except EmbeddingImportError as exc:
            raise CommandError(f"nothing imported: {exc}") from exc
        self.stdout.write(f"imported {count} shots into corpus {target.name!r} ({target.dim}-d)")

    def run_import(self, corpus, model, pretrained, key_list, vectors, spans):
        target = Corpus.objects.filter(name=corpus).first()
        if target is None:
            validate(key_list, vectors, spans, dim=None)
            target = corpus_create(
                name=corpus, embedding_model=model, embedding_pretrained=pretrained, dim=vectors.shape[1]
            )
        return embeddings_import(corpus=target, keys=key_list, vectors=vectors, spans=spans), target
