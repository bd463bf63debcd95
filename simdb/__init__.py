"""simdb: lightweight fakes of Thrift services, Redis and MySQL, seeded from snapshots."""

__version__ = "0.1.0"
