"""manage.py import_embeddings: the three file layouts, and every bad input leaves nothing behind."""

import csv

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from models_app.models import Corpus, Shot, ShotEmbedding, Video

pytestmark = pytest.mark.django_db

KEYS = [f"vid{v}|{f}" for v in range(3) for f in (0, 48, 120)]


def shot_table(path, keys=KEYS):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["yt_id", "frame_in", "frame_out", "fps"])
        for key in keys:
            video, frame = key.split("|")
            writer.writerow([video, frame, int(frame) + 40, 24])
    return path


def vectors(n=len(KEYS), dim=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


def write_npy(folder, vecs, keys=KEYS):
    np.save(folder / "emb.npy", vecs)
    (folder / "emb.csv").write_text("key\n" + "\n".join(keys) + "\n")
    return folder / "emb.npy"


def write_parquet(folder, vecs, keys=KEYS):
    table = pa.table({"key": keys, "embedding": [list(map(float, v)) for v in vecs]})
    pq.write_table(table, folder / "emb.parquet")
    return folder / "emb.parquet"


def write_va_h5(folder, vecs, keys=KEYS):
    """VA's released layout: one dataset per shot, named "yt_id|frame_in"."""
    with h5py.File(folder / "embeddings.h5", "w") as hf:
        for key, vec in zip(keys, vecs, strict=True):
            hf[key] = vec
    return folder / "embeddings.h5"


@pytest.mark.parametrize("writer", [write_npy, write_parquet, write_va_h5])
def test_import_each_layout(tmp_path, writer):
    vecs = vectors()
    path = writer(tmp_path, vecs)
    call_command("import_embeddings", str(path), "--shots", str(shot_table(tmp_path / "shots.csv")), "--corpus", "va")
    corpus = Corpus.objects.get(name="va")
    assert corpus.dim == 6 and Video.objects.filter(corpus=corpus).count() == 3
    shot = Shot.objects.get(video__source="vid1", start_frame=48)
    assert (shot.end_frame, shot.start_s, shot.end_s) == (88, 2.0, 88 / 24)
    stored = np.asarray(ShotEmbedding.objects.get(shot=shot).vector)
    expected = vecs[KEYS.index("vid1|48")]
    assert np.allclose(stored, expected / np.linalg.norm(expected), atol=1e-6)
    assert ShotEmbedding.objects.filter(corpus=corpus).count() == len(KEYS)


def test_reimport_replaces_instead_of_duplicating(tmp_path):
    shots = str(shot_table(tmp_path / "shots.csv"))
    for seed in (0, 1):
        call_command(
            "import_embeddings", str(write_npy(tmp_path, vectors(seed=seed))), "--shots", shots, "--corpus", "va"
        )
    assert Shot.objects.count() == ShotEmbedding.objects.count() == len(KEYS)


def bad_nan(tmp_path):
    vecs = vectors()
    vecs[4, 2] = np.nan
    return write_npy(tmp_path, vecs), shot_table(tmp_path / "s.csv"), "NaN"


def bad_duplicate(tmp_path):
    keys = [*KEYS[:-1], KEYS[0]]
    return write_npy(tmp_path, vectors(), keys=keys), shot_table(tmp_path / "s.csv"), "duplicate"


def bad_unknown_video(tmp_path):
    return write_npy(tmp_path, vectors()), shot_table(tmp_path / "s.csv", keys=KEYS[:-2]), "unknown videos"


def bad_shot_row(tmp_path):
    path = shot_table(tmp_path / "s.csv")
    path.write_text(path.read_text() + "vid9,abc,10,24\n")
    return write_npy(tmp_path, vectors()), path, "cannot read a shot"


def bad_key_count(tmp_path):
    return write_npy(tmp_path, vectors(n=5)), shot_table(tmp_path / "s.csv"), "keys"


@pytest.mark.parametrize("case", [bad_nan, bad_duplicate, bad_unknown_video, bad_shot_row, bad_key_count])
def test_bad_files_import_nothing(tmp_path, case):
    embeddings, shots, message = case(tmp_path)
    with pytest.raises(CommandError, match=message):
        call_command("import_embeddings", str(embeddings), "--shots", str(shots), "--corpus", "va")
    assert not Corpus.objects.exists() and not Shot.objects.exists()


def test_dimension_mismatch_with_an_existing_corpus_imports_nothing(tmp_path):
    shots = str(shot_table(tmp_path / "shots.csv"))
    call_command("import_embeddings", str(write_npy(tmp_path, vectors())), "--shots", shots, "--corpus", "va")
    before = Shot.objects.count()
    with pytest.raises(CommandError, match="6"):
        call_command("import_embeddings", str(write_npy(tmp_path, vectors(dim=8))), "--shots", shots, "--corpus", "va")
    assert Shot.objects.count() == before


def test_a_bulk_import_rebuilds_the_hnsw_index_once(tmp_path, monkeypatch):
    """Above BULK_ROWS the corpus index is dropped, the rows loaded, and the index built again."""
    from django.db import connection

    from models_app import imports
    from models_app.services import hnsw_index_name

    monkeypatch.setattr(imports, "BULK_ROWS", 1)
    path = write_npy(tmp_path, vectors())
    call_command("import_embeddings", str(path), "--shots", str(shot_table(tmp_path / "shots.csv")), "--corpus", "va")
    corpus = Corpus.objects.get(name="va")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [hnsw_index_name(corpus.id)])
        assert cursor.fetchone() is not None
    assert ShotEmbedding.objects.filter(corpus=corpus).count() == len(KEYS)
