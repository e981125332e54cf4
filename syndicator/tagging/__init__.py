"""tagging stage."""
