"""Exhibit bundles and letters as PDF: rows → context → templates/ → WeasyPrint."""
