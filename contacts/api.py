"""The /api/contacts/ endpoints: parse, call a selector or service, serialize."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from activity.actor import Actor
from contacts import services
from contacts.models import Contact
from contacts.pagination import KeysetCursorPagination
from contacts.selectors import (
    SEARCH_MAX_LENGTH,
    contact_get,
    contact_keyset_page,
    contact_list,
)
from parsalink.core.permissions import CONTACTS_READ, CONTACTS_WRITE
from parsalink.core.serializers import StrictSerializer, iso_datetime

NOTES_MAX_LENGTH = 10_000

# ?ordering= values and the keyset each pages over; each has an index (contacts/models.py).
ORDERINGS = {
    "createdAt": ("created_at", "id"),
    "-createdAt": ("-created_at", "-id"),
    "updatedAt": ("updated_at", "id"),
    "-updatedAt": ("-updated_at", "-id"),
    "lastName": ("last_name", "id"),
    "-lastName": ("-last_name", "-id"),
}
# No ?ordering=: newest first by the time-ordered ULID id.
DEFAULT_KEYSET = ("-id",)


class ContactInput(StrictSerializer):
    """POST and PUT (full replace: omitted optional fields become empty); PATCH is partial."""

    firstName = serializers.CharField(source="first_name", max_length=100)
    lastName = serializers.CharField(
        source="last_name", max_length=100, allow_blank=True, default=""
    )
    email = serializers.EmailField(max_length=254, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, allow_blank=True, default="")
    company = serializers.CharField(max_length=200, allow_blank=True, default="")
    notes = serializers.CharField(
        max_length=NOTES_MAX_LENGTH, allow_blank=True, default="", trim_whitespace=False
    )


# The contact object as the schema describes it; responses are built by contact_json().
class ContactOutput(serializers.Serializer):
    id = serializers.CharField()
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")
    email = serializers.CharField()
    phone = serializers.CharField()
    company = serializers.CharField()
    notes = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


def contact_json(contact: Contact) -> dict:
    """ContactOutput's representation written out: a list page builds up to 200 of these, and
    DRF's per-field machinery (deep-copied fields, attribute lookups) costs more per row than
    the query. tests/contacts/test_contact_json.py holds the two equal."""
    return {
        "id": contact.id,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "company": contact.company,
        "notes": contact.notes,
        "createdAt": iso_datetime(contact.created_at),
        "updatedAt": iso_datetime(contact.updated_at),
    }


class ContactListQuery(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=SEARCH_MAX_LENGTH)
    ordering = serializers.ChoiceField(choices=sorted(ORDERINGS), required=False)


LIST_PARAMETERS = [
    OpenApiParameter(
        "search",
        OpenApiTypes.STR,
        description="Case-insensitive substring of first name, last name, email or company.",
    ),
    OpenApiParameter("ordering", OpenApiTypes.STR, enum=sorted(ORDERINGS)),
    OpenApiParameter("pageSize", OpenApiTypes.INT, description="1..200, default 50."),
]


class ContactViewSet(viewsets.GenericViewSet):
    """Contacts of the caller's workspace; any other workspace's contact is a 404."""

    serializer_class = ContactOutput
    pagination_class = KeysetCursorPagination
    queryset = Contact.objects.none()  # for the schema generator; requests use the selectors
    required_scopes = {
        "list": CONTACTS_READ,
        "retrieve": CONTACTS_READ,
        "create": CONTACTS_WRITE,
        "update": CONTACTS_WRITE,
        "partial_update": CONTACTS_WRITE,
        "destroy": CONTACTS_WRITE,
    }

    def workspace_id(self) -> str:
        return self.request.user.workspace_id

    def list_query(self) -> dict:
        if not hasattr(self, "_list_query"):
            params = self.request.query_params
            if "search" not in params and "ordering" not in params:
                self._list_query = {}  # the common case: nothing to validate
                return self._list_query
            query = ContactListQuery(data=params)
            query.is_valid(raise_exception=True)
            self._list_query = query.validated_data
        return self._list_query

    def get_queryset(self):
        return contact_list(
            workspace_id=self.workspace_id(), search=self.list_query().get("search") or None
        )

    def get_keyset(self, request) -> tuple[str, ...]:
        ordering = self.list_query().get("ordering")
        return ORDERINGS[ordering] if ordering else DEFAULT_KEYSET

    def keyset_rows(self, keys: tuple[str, ...], after: list | None, limit: int) -> list[Contact]:
        """One page's rows: without search, the statement written out (contact_keyset_page: the
        ORM would compile it afresh on every request); with one, contact_list()'s queryset."""
        if self.list_query().get("search"):
            return self.paginator.queryset_rows(self.get_queryset(), keys, after, limit)
        return contact_keyset_page(
            workspace_id=self.workspace_id(), keyset=keys, after=after, limit=limit
        )

    def get_object(self) -> Contact:
        contact = contact_get(workspace_id=self.workspace_id(), contact_id=self.kwargs["pk"])
        if contact is None:
            raise NotFound()
        return contact

    @extend_schema(parameters=LIST_PARAMETERS, responses=ContactOutput(many=True))
    def list(self, request):
        page = self.paginator.paginate_rows(self.keyset_rows, request, self, model=Contact)
        return self.get_paginated_response([contact_json(contact) for contact in page])

    @extend_schema(request=ContactInput, responses={201: ContactOutput})
    def create(self, request):
        data = _validated(request)
        contact = services.contact_create(actor=Actor.from_request(request), data=data)
        return Response(contact_json(contact), status=status.HTTP_201_CREATED)

    @extend_schema(responses=ContactOutput)
    def retrieve(self, request, pk=None):
        return Response(contact_json(self.get_object()))

    @extend_schema(request=ContactInput, responses=ContactOutput)
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(request=ContactInput, responses=ContactOutput)
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.contact_delete(contact=self.get_object(), actor=Actor.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request, *, partial: bool) -> Response:
        contact = self.get_object()
        data = _validated(request, partial=partial)
        contact = services.contact_update(
            contact=contact, actor=Actor.from_request(request), data=data
        )
        return Response(contact_json(contact))


def _validated(request, *, partial: bool = False) -> dict:
    serializer = ContactInput(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
