"""Member messaging over WhatsApp through a WAHA gateway: sessions, sending, signed webhooks."""
