"""Jinhui's four services: members, entitlements, disbursements, hardship."""
