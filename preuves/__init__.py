"""The `preuves` command line: the composition root that ties evidence, capture and dossier."""
