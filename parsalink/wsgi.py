"""WSGI entry point: `gunicorn parsalink.wsgi` (see gunicorn.conf.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parsalink.settings")
application = get_wsgi_application()
