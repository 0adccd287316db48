"""The benchmark mount of the contact list (docs/performance.md); never part of the API.

The very same view class, list action and page size as GET /api/contacts/, with authentication,
permissions and throttling off and the workspace taken from `?workspace=ws_…`. parsalink/urls.py
mounts it at /api/_bench/contacts/ only when PARSALINK_BENCHMARK=1, and the schema leaves it out.
"""

from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny

from contacts.api import ContactViewSet
from parsalink.core.ids import is_valid_id

BENCH_PATH_PREFIX = "/api/_bench/"


class BenchContactViewSet(ContactViewSet):
    """Lists the contacts of the workspace named in the query string."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    def workspace_id(self) -> str:
        raw = self.request.query_params.get("workspace", "")
        if not is_valid_id(raw, "ws"):
            raise ValidationError({"workspace": ["A workspace id (ws_…) is required."]})
        return raw


bench_contact_list_view = BenchContactViewSet.as_view({"get": "list"})


def drop_benchmark_endpoints(endpoints):
    """SPECTACULAR_SETTINGS preprocessing hook: the benchmark mount is not part of the API."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith(BENCH_PATH_PREFIX)]
