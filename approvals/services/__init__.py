"""Every write on approvals: created by a workflow, decided by a person, expired by beat."""

from .clients import machine_client_issue
from .decisions import (
    approval_break_glass,
    approval_decide,
    approval_expire_due,
    approval_for_release,
    approval_release_promote,
    approvals_gate_opened,
    release_waits_on,
)
from .requests import ApprovalRefused, approval_create, component_by_ref, signal_target

__all__ = [
    "ApprovalRefused",
    "approval_break_glass",
    "approval_create",
    "approval_decide",
    "approval_expire_due",
    "approval_for_release",
    "approvals_gate_opened",
    "approval_release_promote",
    "component_by_ref",
    "machine_client_issue",
    "release_waits_on",
    "signal_target",
]
