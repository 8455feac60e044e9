"""The L&D dashboard: signed links, its views and its HTML."""
