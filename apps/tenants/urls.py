"""Routes of tenants, full paths (config/urls.py includes each app's at the root)."""
from django.urls import path

from apps.tenants import views

urlpatterns = [
    # Sign-up may create a tenant, and tenants depends on accounts (never the reverse).
    path("api/auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("api/tenants/current/", views.CurrentTenantView.as_view(), name="tenant-current"),
    path("api/tenants/current/members/", views.MembersView.as_view(), name="tenant-members"),
    path(
        "api/tenants/current/members/<str:user_id>/", views.MemberDetailView.as_view(),
        name="tenant-member-detail",
    ),
    path("api/tenants/current/invitations/", views.InvitationsView.as_view(), name="tenant-invitations"),
    path(
        "api/tenants/current/invitations/<str:invitation_id>/", views.InvitationDetailView.as_view(),
        name="tenant-invitation-detail",
    ),
    path("api/tenants/current/events/", views.TenantEventListView.as_view(), name="tenant-events"),
    path("api/tenants/invitations/accept/", views.InvitationAcceptView.as_view(), name="tenant-invitation-accept"),
]
