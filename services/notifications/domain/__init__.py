"""The notifications service's rules, free of Flask, kombu, marshmallow and SQLAlchemy."""
