"""Capture: walk the harmless first steps of a booking page, record it and classify what it shows."""
