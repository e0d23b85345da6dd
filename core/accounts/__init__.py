"""Accounts and roles: registration, log-in, passwords, API tokens."""
