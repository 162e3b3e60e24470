"""Models of this app are added by its own issue."""
