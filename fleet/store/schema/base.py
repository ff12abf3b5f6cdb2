"""The one MetaData every table of the store belongs to."""

from sqlalchemy import MetaData

metadata = MetaData()
