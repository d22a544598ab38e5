from apps.accounts.models import RefreshSession
from apps.accounts.services import sessions as session_service


def test_login_prunes_dead_sessions_without_cron(login, user, clock, settings, monkeypatch):
    settings.SESSION_PRUNE_INTERVAL_SECONDS = 3600
    login(user.email)
    clock.advance(days=settings.REFRESH_TOKEN_LIFETIME_DAYS + 1)  # that session's token expired
    monkeypatch.setattr(session_service, "_last_prune", float("-inf"))  # the interval has passed

    login(user.email)

    assert RefreshSession.objects.filter(user=user).count() == 1


def test_automatic_pruning_runs_at_most_once_per_interval(login, user, clock, settings, monkeypatch):
    settings.SESSION_PRUNE_INTERVAL_SECONDS = 3600
    monkeypatch.setattr(session_service, "_last_prune", float("-inf"))
    login(user.email)  # prunes (nothing) and starts the interval
    login(user.email)
    clock.advance(days=settings.REFRESH_TOKEN_LIFETIME_DAYS + 1)

    login(user.email)  # same process, within the interval (monotonic time did not move)

    assert RefreshSession.objects.filter(user=user).count() == 3
