"""The sequenced joint workflow: routes, crossings and their steps."""
