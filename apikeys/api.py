"""The /api/api-keys/ endpoints: thin views over apikeys.services (user tokens only)."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from activity.actor import Actor
from apikeys import selectors, services
from apikeys.models import ApiKey
from apikeys.scopes import MAX_ALLOWED_IPS
from parsalink.core.pagination import CursorPagination
from parsalink.core.permissions import ALL_SCOPES, IsPerson
from parsalink.core.serializers import StrictSerializer


def _scopes_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=ALL_SCOPES),
        allow_empty=False,
        help_text="What the key may do (a non-empty subset; default all three).",
        **kwargs,
    )


def _allowed_ips_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=64),
        max_length=MAX_ALLOWED_IPS,
        help_text="IPv4/IPv6 addresses or CIDR ranges the key may be used from (host bits "
        "set in a range are refused); [] (the default) means any address.",
        **kwargs,
    )


class ApiKeyCreateInput(StrictSerializer):
    name = serializers.CharField(max_length=100)
    expiresAt = serializers.DateTimeField(required=False, allow_null=True)
    scopes = _scopes_field(required=False)
    allowedIps = _allowed_ips_field(required=False)

    def validate_expiresAt(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value


class ApiKeyUpdateInput(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    scopes = _scopes_field(required=False)
    allowedIps = _allowed_ips_field(required=False)


class ApiKeyRollInput(StrictSerializer):
    expiresIn = serializers.IntegerField(
        min_value=0,
        max_value=services.MAX_ROLL_OVERLAP_SECONDS,
        required=False,
        default=0,
        help_text="Seconds the old key keeps working (0 = it stops now).",
    )


class ApiKeyOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="Display form of the key, e.g. pk_live_01HX…abcd.")
    createdAt = serializers.DateTimeField(source="created_at")
    createdBy = serializers.CharField(source="created_by_id", allow_null=True)
    lastUsedAt = serializers.DateTimeField(source="last_used_at", allow_null=True)
    expiresAt = serializers.DateTimeField(source="expires_at", allow_null=True)
    revokedAt = serializers.DateTimeField(source="revoked_at", allow_null=True)
    revokedReason = serializers.CharField(
        source="revoked_reason_or_none",
        allow_null=True,
        help_text="`leak_reported` when a leak report revoked it; null otherwise.",
    )
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ALL_SCOPES))
    allowedIps = serializers.ListField(source="allowed_ips", child=serializers.CharField())


class ApiKeyCreatedOutput(ApiKeyOutput):
    key = serializers.CharField(help_text="The full key (pk_live_…): shown this once only.")


class ApiKeyUsageOutput(serializers.Serializer):
    createdAt = serializers.DateTimeField(source="created_at")
    method = serializers.CharField()
    path = serializers.CharField()
    status = serializers.IntegerField()
    ip = serializers.CharField(allow_null=True)
    userAgent = serializers.CharField(source="user_agent")


def _created_body(created: services.CreatedKey) -> dict:
    return {**ApiKeyOutput(created.api_key).data, "key": created.plain}


_NOT_FOUND = OpenApiResponse(description="No such key in the caller's workspace.")


@extend_schema_view(
    list=extend_schema(summary="List the workspace's API keys", responses=ApiKeyOutput(many=True)),
    retrieve=extend_schema(summary="One API key", responses={200: ApiKeyOutput, 404: _NOT_FOUND}),
)
class ApiKeyViewSet(viewsets.GenericViewSet):
    """Workspace API keys. Only people (user tokens) may manage keys: an API key gets 403."""

    permission_classes = [IsPerson]
    serializer_class = ApiKeyOutput
    pagination_class = CursorPagination
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiKey.objects.none()
        return selectors.api_key_list(workspace_id=self.request.user.workspace_id)

    def _key(self, pk: str) -> ApiKey:
        api_key = selectors.api_key_get(workspace_id=self.request.user.workspace_id, key_id=pk)
        if api_key is None:
            raise NotFound()
        return api_key

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApiKeyOutput(page, many=True).data)

    @extend_schema(
        summary="Create an API key (the full key is returned once)",
        request=ApiKeyCreateInput,
        responses={201: ApiKeyCreatedOutput},
    )
    def create(self, request):
        serializer = ApiKeyCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.api_key_create(
            actor=Actor.from_request(request),
            name=serializer.validated_data["name"],
            expires_at=serializer.validated_data.get("expiresAt"),
            scopes=serializer.validated_data.get("scopes"),
            allowed_ips=serializer.validated_data.get("allowedIps"),
        )
        return Response(_created_body(created), status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return Response(ApiKeyOutput(self._key(pk)).data)

    @extend_schema(
        summary="Change a key's name, scopes or allowed addresses (in force from its next request)",
        request=ApiKeyUpdateInput,
        responses={200: ApiKeyOutput, 404: _NOT_FOUND},
    )
    def partial_update(self, request, pk=None):
        api_key = self._key(pk)
        serializer = ApiKeyUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        updated = services.api_key_update(
            api_key=api_key,
            actor=Actor.from_request(request),
            name=data.get("name"),
            scopes=data.get("scopes"),
            allowed_ips=data.get("allowedIps"),
        )
        return Response(ApiKeyOutput(updated).data)

    @extend_schema(
        summary="Revoke an API key at once (idempotent)",
        request=None,
        responses={200: ApiKeyOutput, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        api_key = services.api_key_revoke(api_key=self._key(pk), actor=Actor.from_request(request))
        return Response(ApiKeyOutput(api_key).data)

    @extend_schema(
        summary="Roll an API key: a new key with the same name; the old one expires after "
        "expiresIn seconds",
        request=ApiKeyRollInput,
        responses={201: ApiKeyCreatedOutput, 404: _NOT_FOUND, 409: OpenApiResponse()},
    )
    @action(detail=True, methods=["post"])
    def roll(self, request, pk=None):
        api_key = self._key(pk)
        serializer = ApiKeyRollInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.api_key_roll(
            api_key=api_key,
            actor=Actor.from_request(request),
            overlap_seconds=serializer.validated_data["expiresIn"],
        )
        return Response(_created_body(created), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The key's usage log, newest first (every request that presented it)",
        responses={200: ApiKeyUsageOutput(many=True), 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["get"])
    def activity(self, request, pk=None):
        api_key = self._key(pk)
        page = self.paginate_queryset(selectors.api_key_usage_list(api_key_id=api_key.pk))
        return self.get_paginated_response(ApiKeyUsageOutput(page, many=True).data)
