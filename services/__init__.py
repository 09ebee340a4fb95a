"""The four Booster Track services; each owns its data and talks through events."""
