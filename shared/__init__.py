"""The common library of the Booster Track services (config, events, bus, db, http, auth)."""
