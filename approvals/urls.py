from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.approval_inbox, name="inbox"),
    path("<int:pk>/", views.approval_detail, name="approval_detail"),
    path("<int:pk>/decide/", views.approval_decide, name="approval_decide"),
    path("<int:pk>/break-glass/", views.approval_break_glass, name="approval_break_glass"),
    path("releases/<int:pk>/promote/", views.release_promote, name="release_promote"),
]
