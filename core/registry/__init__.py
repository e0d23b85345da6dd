"""Regions and households: the registry every domain refers to."""
