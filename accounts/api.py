"""The /api/auth/ endpoints: thin views over accounts.services (whose AppErrors the handler
answers), sessions included."""

from django.conf import settings
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts import tokens
from accounts.models import Session
from accounts.selectors import sessions_live_query, user_get
from accounts.services import credentials as credentials_service
from accounts.services import login as login_service
from accounts.services import refresh as refresh_service
from accounts.services import user_sessions
from accounts.throttles import LoginPerEmailThrottle, LoginPerIpThrottle, RefreshPerIpThrottle
from activity.actor import Actor
from parsalink.core.bearer import WWW_AUTHENTICATE
from parsalink.core.client import client_ip, user_agent
from parsalink.core.pagination import CursorPagination
from parsalink.core.permissions import IsPerson
from parsalink.core.serializers import StrictSerializer


class LoginInput(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=settings.PASSWORD_MAX_LENGTH, trim_whitespace=False)


class RefreshInput(StrictSerializer):
    refresh = serializers.CharField(max_length=4096)


class PasswordInput(StrictSerializer):
    currentPassword = serializers.CharField(
        max_length=settings.PASSWORD_MAX_LENGTH, trim_whitespace=False
    )
    newPassword = serializers.CharField(
        max_length=settings.PASSWORD_MAX_LENGTH, trim_whitespace=False
    )


class UserOutput(serializers.Serializer):
    id = serializers.CharField()
    email = serializers.EmailField()
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")
    workspaceId = serializers.CharField(source="workspace_id")


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


LoginOutput = inline_serializer(
    "LoginOutput",
    {"access": serializers.CharField(), "refresh": serializers.CharField(), "user": UserOutput()},
)


def _pair(pair: tokens.TokenPair) -> dict:
    return {"access": pair.access, "refresh": pair.refresh}


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class AuthViewSet(viewsets.ViewSet):
    """Login, refresh rotation, logout and the caller's own account."""

    def get_authenticate_header(self, request) -> str:
        # Login and refresh have no authenticator, yet their failures are 401s with a challenge.
        return WWW_AUTHENTICATE

    @extend_schema(
        request=LoginInput,
        responses={
            200: LoginOutput,
            401: OpenApiResponse(
                description="Wrong email or password (the same body for every reason)."
            ),
            429: OpenApiResponse(
                description="Throttled (`throttled`), or no hashing capacity came free within "
                "LOGIN_QUEUE_TIMEOUT (`login_busy`); both with Retry-After."
            ),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        authentication_classes=[],
        permission_classes=[AllowAny],
        throttle_classes=[LoginPerIpThrottle, LoginPerEmailThrottle],
    )
    def login(self, request):
        data = _validated(LoginInput, request)
        result = login_service.login(
            email=data["email"],
            password=data["password"],
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
        return Response({**_pair(result.pair), "user": UserOutput(result.user).data})

    @extend_schema(request=RefreshInput, responses={200: TokenPairOutput})
    @action(
        detail=False,
        methods=["post"],
        url_path="token/refresh",
        authentication_classes=[],
        permission_classes=[AllowAny],
        throttle_classes=[RefreshPerIpThrottle],
    )
    def refresh(self, request):
        data = _validated(RefreshInput, request)
        pair = refresh_service.token_refresh(
            raw=data["refresh"], ip=client_ip(request), user_agent=user_agent(request)
        )
        return Response(_pair(pair))

    @extend_schema(request=RefreshInput, responses={204: None})
    @action(
        detail=False,
        methods=["post"],
        authentication_classes=[],
        permission_classes=[AllowAny],
        throttle_classes=[RefreshPerIpThrottle],
    )
    def logout(self, request):
        data = _validated(RefreshInput, request)
        credentials_service.logout(
            raw=data["refresh"], ip=client_ip(request), user_agent=user_agent(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None})
    @action(detail=False, methods=["post"], url_path="logout-all", permission_classes=[IsPerson])
    def logout_all(self, request):
        credentials_service.logout_all(
            user=self._current_user(request), actor=Actor.from_request(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: UserOutput})
    @action(detail=False, methods=["get"], permission_classes=[IsPerson])
    def me(self, request):
        return Response(UserOutput(request.user).data)

    @extend_schema(request=PasswordInput, responses={200: TokenPairOutput})
    @action(detail=False, methods=["post"], permission_classes=[IsPerson])
    def password(self, request):
        data = _validated(PasswordInput, request)
        pair = credentials_service.password_change(
            user=self._current_user(request),
            current_password=data["currentPassword"],
            new_password=data["newPassword"],
            actor=Actor.from_request(request),
        )
        return Response(_pair(pair))

    @staticmethod
    def _current_user(request):
        user = user_get(user_id=request.user.id)
        if user is None:
            raise AuthenticationFailed("Token is no longer valid.", code="token_not_valid")
        return user


class SessionOutput(serializers.Serializer):
    id = serializers.CharField(help_text="ses_<ULID>")
    createdAt = serializers.DateTimeField(source="created_at")
    lastUsedAt = serializers.DateTimeField(
        source="last_used_at", help_text="The login or the latest refresh."
    )
    expiresAt = serializers.DateTimeField(source="expires_at")
    ip = serializers.IPAddressField(allow_null=True, help_text="Of the login.")
    userAgent = serializers.CharField(source="user_agent", help_text="Of the login.")
    current = serializers.SerializerMethodField()

    def get_current(self, session: Session) -> bool:
        """True for the session of the access token this request presented."""
        return session.pk == self.context.get("current_session_id")


def _current_session_id(request) -> str | None:
    return getattr(request.auth, "session_id", None)


@extend_schema_view(
    list=extend_schema(
        summary="The caller's live sessions, newest first", responses=SessionOutput(many=True)
    ),
    destroy=extend_schema(
        summary="End one of the caller's sessions: its refresh and access tokens stop at once",
        responses={
            204: None,
            404: OpenApiResponse(description="Not one of the caller's live sessions."),
        },
    ),
)
class SessionViewSet(viewsets.GenericViewSet):
    """Where the person is signed in; for people only (an API key gets 403)."""

    permission_classes = [IsPerson]
    serializer_class = SessionOutput
    pagination_class = CursorPagination
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Session.objects.none()
        return sessions_live_query(user_id=self.request.user.id)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        context = {"current_session_id": _current_session_id(request)}
        return self.get_paginated_response(SessionOutput(page, many=True, context=context).data)

    def destroy(self, request, pk=None):
        try:
            user_sessions.session_end(
                user=AuthViewSet._current_user(request),
                session_id=pk,
                actor=Actor.from_request(request),
            )
        except user_sessions.SessionNotFound:
            raise NotFound(user_sessions.SessionNotFound.detail) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
