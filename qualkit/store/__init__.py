"""The project store: schema, engines, migrations and repository functions."""
