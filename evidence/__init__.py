"""The evidence store: workspace, write-once blobs, hash-chained journal and verification.

This package is the bottom layer: it imports nothing from `capture`, `dossier_builder` or the CLI.
"""
