"""Jinja2 templates of the documents (exhibits, letters), shipped inside the package."""
