from django.urls import path

from . import views

app_name = "apidocs"

urlpatterns = [
    path("", views.api_list, name="api_list"),
]
