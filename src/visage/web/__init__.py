"""Visage's own web app: server-rendered pages (Jinja2) and htmx fragments over the JSON API."""
