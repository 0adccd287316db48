"""Records every request that presented an API key (filled in by the API-key issue)."""


class ApiKeyUsageMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
