"""OpenAPI description of JWT bearer authentication (imported from AccountsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JWTBearerScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTBearerAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from POST /api/auth/login/ or "
            "/api/auth/token/refresh/ (HS256, 1 hour). A refresh token is refused here.",
        }
