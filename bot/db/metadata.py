"""All models imported in one place, so that Alembic and tests see the full metadata."""

from bot.db import (  # noqa: F401  (registers the tables)
    campaign_models,
    catalog_models,
    channel_models,
    console_models,
    delivery_models,
    models,
)
from bot.db.base import Base

metadata = Base.metadata
