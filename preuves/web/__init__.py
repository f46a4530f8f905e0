"""`preuves serve`: a small web dashboard over a workspace (Flask, server-rendered French pages)."""
