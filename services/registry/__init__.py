"""The registry service: countries, clusters, labels, members and people."""
