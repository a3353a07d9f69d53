"""Every release transition (and each PagerDuty incident seen) as a CDEvent, through an outbox
delivered by Celery to the sinks configured in the admin (see docs/cdevents.md)."""
