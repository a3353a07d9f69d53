"""DORA's four keys computed from our own release ledger (see docs/dora.md)."""
