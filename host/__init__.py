"""A minimal Jira/Confluence-like host application with a pluggy plugin system."""

__version__ = "0.1.0"
