from django.urls import path

from . import tryit_views, views

app_name = "apidocs"

urlpatterns = [
    path("", views.api_list, name="api_list"),
    path("search/", views.symbol_search_view, name="symbol_search"),
    path("components/<int:component_pk>/new/", views.definition_create, name="definition_create"),
    path("<int:pk>/", views.api_detail, name="api_detail"),
    path("<int:pk>/upload/", views.version_upload, name="version_upload"),
    path("<int:pk>/fetch/", views.version_fetch, name="version_fetch"),
    path("<int:pk>/v<int:number>/", views.version_detail, name="version_detail"),
    path("<int:pk>/v<int:number>/format/", views.version_format, name="version_format"),
    path("<int:pk>/v<int:number>/try/", tryit_views.tryit_detail, name="tryit"),
    path(
        "<int:pk>/v<int:number>/try/examples/",
        tryit_views.tryit_example_save_view,
        name="tryit_example_save",
    ),
    path(
        "examples/<int:pk>/delete/",
        tryit_views.tryit_example_delete_view,
        name="tryit_example_delete",
    ),
]
