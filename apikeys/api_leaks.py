"""POST /api/api-keys/leaked/: a thin, unauthenticated view over apikeys.leaks."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys import leaks
from parsalink.core.client import client_ip, user_agent
from parsalink.core.serializers import StrictSerializer
from parsalink.core.throttling import StoreRateThrottle


class StrictTextField(serializers.CharField):
    """A JSON string and nothing else (DRF's CharField would accept 123 as "123")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class LeakReportInput(StrictSerializer):
    keys = serializers.ListField(
        child=StrictTextField(allow_blank=True, trim_whitespace=False),
        min_length=1,
        max_length=leaks.MAX_KEYS_PER_REPORT,
        help_text="Full keys found exposed (pk_live_…); anything else is ignored silently.",
    )
    source = serializers.CharField(
        max_length=leaks.MAX_SOURCE_LENGTH,
        required=False,
        allow_blank=True,
        help_text="Where the keys were found, e.g. a URL.",
    )


class LeakReportThrottle(StoreRateThrottle):
    """THROTTLE_LEAK_REPORTS_PER_IP per client address."""

    scope = "leak_reports"
    rate_setting = "THROTTLE_LEAK_REPORTS_PER_IP"

    def get_cache_key(self, request, view) -> str:
        return f"throttle_{self.scope}_{self.get_ident(request)}"


class LeakReportView(APIView):
    """Holding a key is enough to kill it: no authentication, and the answer is always 202."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LeakReportThrottle]

    @extend_schema(
        summary="Report leaked API keys: each genuine live key is revoked at once",
        description="No authentication. The answer is 202 whatever the keys are (it never says "
        "which were genuine). Each genuine live key is revoked and `api_key.leak_reported` is "
        "recorded in its workspace's activity log. Throttled per client address.",
        request=LeakReportInput,
        responses={
            202: OpenApiResponse(description="Received; genuine live keys are revoked."),
            400: OpenApiResponse(description="Malformed body (not 1..100 strings, source > 500)."),
            429: OpenApiResponse(description="Too many reports from this address."),
        },
    )
    def post(self, request):
        serializer = LeakReportInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        leaks.leaked_keys_revoke(
            keys=serializer.validated_data["keys"],
            source=serializer.validated_data.get("source", ""),
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
        return Response(status=status.HTTP_202_ACCEPTED)
