"""Sessions Marketplace API: all application code (HTTP, services, persistence, security)."""
