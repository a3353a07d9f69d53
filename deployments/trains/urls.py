"""Train pages (mounted under /releases/trains/ by deployments/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("trains/", views.train_list, name="train_list"),
    path("trains/new/", views.train_new, name="train_new"),
    path("trains/<int:pk>/", views.train_detail, name="train_detail"),
    path("trains/<int:pk>/move/", views.train_move, name="train_move"),
    path("trains/<int:pk>/start/", views.train_start, name="train_start"),
    path("trains/<int:pk>/cancel/", views.train_cancel, name="train_cancel"),
    path("trains/<int:pk>/approvals/<int:part>/", views.train_approval, name="train_approval"),
    path(
        "trains/<int:pk>/approvals/<int:part>/again/",
        views.train_approval_again,
        name="train_approval_again",
    ),
]
