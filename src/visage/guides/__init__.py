"""The five troubleshooting guides' routes: aliases onto Visage's own handlers (one table) and
the few answers a guide gives its own shape (FindMe's login and health check)."""
