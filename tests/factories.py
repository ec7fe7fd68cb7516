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
