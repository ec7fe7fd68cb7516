import factory
from django.contrib.auth import get_user_model

from annotation.models import Membership, Project, Role
from models_app.models import Shot, Video
from models_app.services import corpus_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_corpus(name: str = "corpus", dim: int = 8):
    return corpus_create(name=name, embedding_model="test-arch", dim=dim, is_test_model=True)


class VideoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Video

    source = factory.Sequence(lambda n: f"/videos/{n}.mp4")
    title = factory.Sequence(lambda n: f"Video {n}")
    status = Video.Status.DONE


class ShotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shot

    index = factory.Sequence(lambda n: n)
    start_frame = factory.LazyAttribute(lambda o: o.index * 24)
    end_frame = factory.LazyAttribute(lambda o: o.index * 24 + 24)
    start_s = factory.LazyAttribute(lambda o: o.start_frame / 24)
    end_s = factory.LazyAttribute(lambda o: o.end_frame / 24)


def make_project(corpus, creator, name: str = "project") -> Project:
    project = Project.objects.create(corpus=corpus, name=name, created_by=creator)
    Membership.objects.create(project=project, user=creator, role=Role.MANAGER)
    return project


def make_embedded_corpus(name: str = "planted", n: int = 300, dim: int = 16, seed: int = 0):
    """A corpus of n shots whose vectors carry a planted concept along axis 0.

    Returns (corpus, shot ids, truth) where truth[i] says whether shot i has the concept.
    """
    import numpy as np

    from models_app.services import ShotRecord, shots_replace

    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.3
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors[:, 0] += np.where(truth, 2.5, -2.5)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    corpus = make_corpus(name, dim=dim)
    video = VideoFactory(corpus=corpus)
    records = [ShotRecord(start_frame=i * 10, end_frame=i * 10 + 10, start_s=i, end_s=i + 1) for i in range(n)]
    shot_ids = shots_replace(video=video, shots=records, vectors=vectors)
    return corpus, shot_ids, truth
