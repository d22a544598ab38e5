from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="auth-register"),
    path("login/", views.LoginView.as_view(), name="auth-login"),
    path("refresh/", views.RefreshView.as_view(), name="auth-refresh"),
    path("csrf/", views.CsrfView.as_view(), name="auth-csrf"),
    path("verify/", views.VerifyView.as_view(), name="auth-verify"),
    path("logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("logout-all/", views.LogoutAllView.as_view(), name="auth-logout-all"),
    path("me/", views.MeView.as_view(), name="auth-me"),
    path("password/change/", views.PasswordChangeView.as_view(), name="auth-password-change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("password/reset/confirm/", views.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("email/verify/", views.EmailVerifyView.as_view(), name="auth-email-verify"),
    path("email/verify/resend/", views.EmailVerifyResendView.as_view(), name="auth-email-verify-resend"),
    path("sessions/", views.SessionListView.as_view(), name="auth-sessions"),
    path("sessions/<str:session_id>/", views.SessionDetailView.as_view(), name="auth-session-detail"),
]
