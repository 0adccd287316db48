"""The API reference page (/api/docs/): Redoc served from this origin, under its own CSP.

Redoc's bundle comes from drf-spectacular-sidecar through staticfiles (WhiteNoise), never from a
CDN. The site-wide policy (settings.CONTENT_SECURITY_POLICY) is widened here only as far as Redoc
needs: its styled-components insert <style> elements, and its search index runs in a Worker
built from a blob: URL.
"""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularRedocView

REDOC_POLICY = {"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]}


class ApiDocsView(SpectacularRedocView):
    """Redoc without third-party fonts (parsalink/templates/parsalink/redoc.html)."""

    template_name = "parsalink/redoc.html"


def api_docs_view():
    return csp_update(REDOC_POLICY)(ApiDocsView.as_view(url_name="schema"))
