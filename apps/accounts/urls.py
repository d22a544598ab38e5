"""Routes of accounts, full paths (config/urls.py includes each app's at the root).
/api/auth/register/ is in apps/tenants/urls.py: sign-up may create a tenant."""
from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("api/auth/login/", views.LoginView.as_view(), name="auth-login"),
    path("api/auth/refresh/", views.RefreshView.as_view(), name="auth-refresh"),
    path("api/auth/csrf/", views.CsrfView.as_view(), name="auth-csrf"),
    path("api/auth/verify/", views.VerifyView.as_view(), name="auth-verify"),
    path("api/auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("api/auth/logout-all/", views.LogoutAllView.as_view(), name="auth-logout-all"),
    path("api/auth/me/", views.MeView.as_view(), name="auth-me"),
    path("api/auth/password/change/", views.PasswordChangeView.as_view(), name="auth-password-change"),
    path("api/auth/password/reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "api/auth/password/reset/confirm/", views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("api/auth/email/verify/", views.EmailVerifyView.as_view(), name="auth-email-verify"),
    path("api/auth/email/verify/resend/", views.EmailVerifyResendView.as_view(), name="auth-email-verify-resend"),
    path("api/auth/sessions/", views.SessionListView.as_view(), name="auth-sessions"),
    path("api/auth/sessions/<str:session_id>/", views.SessionDetailView.as_view(), name="auth-session-detail"),
    path(".well-known/jwks.json", views.JwksView.as_view(), name="jwks"),
]
