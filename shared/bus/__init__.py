"""The event bus on kombu: topology, confirmed publishing, consuming, dead letters."""
