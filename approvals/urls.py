from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.approval_inbox, name="inbox"),
    path("<int:pk>/", views.approval_detail, name="approval_detail"),
    path("<int:pk>/decide/", views.approval_decide, name="approval_decide"),
]
