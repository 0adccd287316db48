"""The API reference page (/api/docs/): Swagger UI served from this origin, under the site's CSP.

Swagger UI's bundle comes from drf-spectacular-sidecar through staticfiles (WhiteNoise), never
from a CDN. drf-spectacular's split view serves the page's start-up script as a second same-origin
request (`?script`), so the page needs no inline script and the site-wide policy
(settings.CONTENT_SECURITY_POLICY) applies unchanged. Redoc was not kept: its sidebar always loads
its logo from a third-party CDN.
"""

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI without the inline <style> of its template (templates/parsalink/docs.html)."""

    template_name = "parsalink/docs.html"


def api_docs_view():
    return ApiDocsView.as_view(url_name="schema")
