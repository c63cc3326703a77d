"""Helpers for the end-to-end tests: gatehouse process, Keycloak admin API, proxy, browser steps."""
