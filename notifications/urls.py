from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/", views.notification_bell, name="bell"),
    path("read/", views.notification_read_all, name="read_all"),
    path("settings/", views.notification_preferences, name="preferences"),
]
