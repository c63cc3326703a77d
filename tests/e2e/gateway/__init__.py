"""End-to-end tests of the inference gateway through real clients (openai, requests)."""
