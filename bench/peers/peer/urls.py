"""Stock DRF views: the same 10-row contact list four ways, and simplejwt's refresh."""

from django.urls import path
from rest_framework import generics, pagination, serializers
from rest_framework.permissions import AllowAny
from rest_framework_api_key.permissions import HasAPIKey
from rest_framework_simplejwt.views import TokenRefreshView

from peer.models import Contact


class ContactSerializer(serializers.ModelSerializer):
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        model = Contact
        fields = [
            "id",
            "firstName",
            "lastName",
            "email",
            "phone",
            "company",
            "notes",
            "createdAt",
            "updatedAt",
        ]


class Pagination(pagination.CursorPagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "pageSize"
    ordering = "-id"


class ContactList(generics.ListAPIView):
    serializer_class = ContactSerializer
    pagination_class = Pagination

    def get_queryset(self):
        return Contact.objects.filter(workspace_id=self.request.query_params.get("workspace", ""))


class NoAuthContactList(ContactList):
    authentication_classes = []
    permission_classes = [AllowAny]


class ApiKeyContactList(ContactList):
    authentication_classes = []
    permission_classes = [HasAPIKey]


urlpatterns = [
    path("peer/contacts/", NoAuthContactList.as_view()),
    path("peer/jwt/contacts/", ContactList.as_view()),
    path("peer/key/contacts/", ApiKeyContactList.as_view()),
    path("peer/token/refresh/", TokenRefreshView.as_view()),
]
