"""The web server: webhooks, web chat, health and privacy pages."""
