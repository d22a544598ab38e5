"""OpenAPI: document our authentication class as HTTP Bearer JWT (the Swagger "Authorize")."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerJWTScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.SessionAwareJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Access token from /api/auth/login/ or /api/auth/refresh/.",
        }
