"""A stock Django + DRF project: the peer ParsaLink is measured against (bench only).

Same Python, Django, DRF, psycopg and gunicorn flags as ParsaLink, the same database server and
connection settings (persistent connections with health checks), JSON only. Authentication is
stock: simplejwt's JWTAuthentication, djangorestframework-api-key's HasAPIKey, and simplejwt's
TokenRefreshView with rotation + blacklist. Nothing here is tuned.
"""

import os
from datetime import timedelta

import dj_database_url

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "bench-peer-only")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "rest_framework_api_key",
    "rest_framework_simplejwt.token_blacklist",
    "peer",
]

# Django's startproject middleware, minus the admin's.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "peer.urls"
WSGI_APPLICATION = "peer.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get(
            "PEER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/parsalink_bench_peer"
        ),
        conn_max_age=600,
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=1),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=30),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": SECRET_KEY,
}

LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
