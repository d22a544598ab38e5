from django.urls import path

from apps.tenants import views

urlpatterns = [
    path("current/", views.CurrentTenantView.as_view(), name="tenant-current"),
    path("current/members/", views.MembersView.as_view(), name="tenant-members"),
    path("current/members/<str:user_id>/", views.MemberDetailView.as_view(), name="tenant-member-detail"),
    path("current/invitations/", views.InvitationsView.as_view(), name="tenant-invitations"),
    path(
        "current/invitations/<str:invitation_id>/", views.InvitationDetailView.as_view(),
        name="tenant-invitation-detail",
    ),
    path("invitations/accept/", views.InvitationAcceptView.as_view(), name="tenant-invitation-accept"),
]
