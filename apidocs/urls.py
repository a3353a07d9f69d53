from django.urls import path

from . import views

app_name = "apidocs"

urlpatterns = [
    path("", views.api_list, name="api_list"),
    path("search/", views.symbol_search_view, name="symbol_search"),
    path("components/<int:component_pk>/new/", views.definition_create, name="definition_create"),
    path("<int:pk>/", views.api_detail, name="api_detail"),
    path("<int:pk>/upload/", views.version_upload, name="version_upload"),
    path("<int:pk>/v<int:number>/", views.version_detail, name="version_detail"),
]
