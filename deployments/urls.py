from django.urls import path

from . import views

app_name = "deployments"

urlpatterns = [
    path("", views.release_list, name="release_list"),
]
