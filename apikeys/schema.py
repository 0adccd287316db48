"""OpenAPI description of API-key authentication (imported from ApikeysConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "pk_live_<ULID><secret><checksum>",
            "description": "A workspace API key: requests act as the workspace's system user. "
            "Not accepted by /api/auth/me/, logout-all, password or the /api/api-keys/ endpoints.",
        }
