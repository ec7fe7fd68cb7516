"""Projects (managers create and edit) and their memberships."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import selectors, services
from annotation.api.serializers import (
    MembershipIn,
    MembershipOut,
    ProjectCreateIn,
    ProjectOut,
    ProjectUpdateIn,
)
from annotation.api.views.base import ScopedListView, validated
from annotation.models import Membership, Project


@extend_schema(tags=["projects"])
class ProjectList(ScopedListView):
    queryset = Project.objects.none()
    serializer_class = ProjectOut

    def rows(self):
        return selectors.project_list(user=self.request.user)

    @extend_schema(request=ProjectCreateIn, responses={201: ProjectOut})
    def post(self, request):
        """Create a project (staff, or users with the add_project permission); the creator manages it."""
        data = validated(ProjectCreateIn, request.data)
        project = services.project_create(
            user=request.user, corpus_id=data["corpus"], name=data["name"], description=data["description"]
        )
        return Response(ProjectOut(project).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["projects"])
class ProjectDetail(APIView):
    @extend_schema(responses=ProjectOut)
    def get(self, request, project_id: int):
        return Response(ProjectOut(selectors.project_get(user=request.user, project_id=project_id).project).data)

    @extend_schema(request=ProjectUpdateIn, responses=ProjectOut)
    def patch(self, request, project_id: int):
        data = validated(ProjectUpdateIn, request.data)
        project = services.project_update(user=request.user, project_id=project_id, **data)
        return Response(ProjectOut(project).data)


@extend_schema(tags=["projects"])
class MemberList(ScopedListView):
    queryset = Membership.objects.none()
    serializer_class = MembershipOut

    def rows(self):
        return selectors.membership_list(user=self.request.user, project_id=self.kwargs["project_id"])

    @extend_schema(request=MembershipIn, responses=MembershipOut)
    def post(self, request, project_id: int):
        """Add a member or change their role (managers)."""
        data = validated(MembershipIn, request.data)
        membership = services.membership_set(
            actor=request.user, project_id=project_id, user_id=data["user"], role=data["role"]
        )
        return Response(MembershipOut(membership).data)


@extend_schema(tags=["projects"])
class MemberDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, project_id: int, user_id: int):
        services.membership_remove(actor=request.user, project_id=project_id, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
