"""The /api/activity/ endpoints: the caller's workspace's activity log, read-only."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from activity.models import ActivityEvent
from activity.selectors import activity_get, activity_list
from parsalink.core.ids import is_valid_id
from parsalink.core.permissions import ACTIVITY_READ


class ActivityOutput(serializers.Serializer):
    id = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")
    action = serializers.CharField()
    actorId = serializers.CharField(source="actor_id", allow_null=True)
    apiKeyId = serializers.CharField(source="api_key_id", allow_null=True)
    targetType = serializers.CharField(source="target_type")
    targetId = serializers.CharField(source="target_id")
    ip = serializers.IPAddressField(allow_null=True)
    userAgent = serializers.CharField(source="user_agent")
    changes = serializers.ListField(child=serializers.CharField())


def _prefixed_id(prefix: str):
    def validate(value: str) -> None:
        if not is_valid_id(value, prefix):
            raise serializers.ValidationError(f"Must be an id of the form {prefix}_<ULID>.")

    return validate


class ActivityListQuery(serializers.Serializer):
    actor = serializers.CharField(required=False, validators=[_prefixed_id("usr")])
    apiKey = serializers.CharField(required=False, validators=[_prefixed_id("key")])
    action = serializers.CharField(required=False, max_length=64)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict) -> dict:
        if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["Must not be earlier than since."]})
        return attrs


LIST_PARAMETERS = [
    OpenApiParameter("actor", OpenApiTypes.STR, description="Only events by this user (usr_…)."),
    OpenApiParameter(
        "apiKey", OpenApiTypes.STR, description="Only events made through this key (key_…)."
    ),
    OpenApiParameter("action", OpenApiTypes.STR, description="e.g. contact.created"),
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="ISO 8601, inclusive."),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="ISO 8601, exclusive."),
    OpenApiParameter("pageSize", OpenApiTypes.INT, description="1..200, default 50."),
]


class ActivityViewSet(viewsets.GenericViewSet):
    """The caller's workspace's activity log, newest first (user tokens and API keys alike)."""

    serializer_class = ActivityOutput
    queryset = ActivityEvent.objects.none()  # for the schema generator; requests use selectors
    required_scopes = {"list": ACTIVITY_READ, "retrieve": ACTIVITY_READ}

    @extend_schema(parameters=LIST_PARAMETERS, responses=ActivityOutput(many=True))
    def list(self, request):
        query = ActivityListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        events = activity_list(
            workspace_id=request.user.workspace_id,
            actor_id=filters.get("actor"),
            api_key_id=filters.get("apiKey"),
            action=filters.get("action"),
            since=filters.get("since"),
            until=filters.get("until"),
        )
        page = self.paginate_queryset(events)
        return self.get_paginated_response(ActivityOutput(page, many=True).data)

    @extend_schema(responses=ActivityOutput)
    def retrieve(self, request, pk=None):
        event = activity_get(workspace_id=request.user.workspace_id, event_id=pk)
        if event is None:
            raise NotFound()
        return Response(ActivityOutput(event).data)
