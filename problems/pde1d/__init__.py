"""Fit coupled neural ODEs to 1-D periodic trajectory files."""
