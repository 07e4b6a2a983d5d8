"""The order store: SQLAlchemy models, Alembic migrations, the one repository, demo data."""
