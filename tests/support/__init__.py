"""Test doubles shared by the unit, integration and end-to-end tests: one of each."""
