"""The host's REST resources (Jira and Confluence compatible)."""
