"""Content negotiation: DRF's, with the Accept headers most clients send answered at once."""

from rest_framework.negotiation import DefaultContentNegotiation


class CommonAcceptNegotiation(DefaultContentNegotiation):
    """No Accept header, `*/*` or exactly the first renderer's media type, and no format
    override: DRF's own rules pick the first renderer with its media type, so do that without
    parsing and ranking the header (a measurable share of a small list request). Anything else
    goes through DRF's negotiation unchanged, 406 included."""

    def select_renderer(self, request, renderers, format_suffix=None):
        first = renderers[0] if renderers else None
        if (
            first is not None
            and format_suffix is None
            and request.META.get("HTTP_ACCEPT", "*/*") in ("*/*", first.media_type)
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
