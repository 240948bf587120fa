"""Data sources: file formats, the built-in sample world and dataset adapters."""
