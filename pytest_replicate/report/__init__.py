"""Human- and machine-readable views of results."""
