"""What the pytest plugin (:mod:`simdb.pytest_plugin`) builds on; also usable without pytest.

* :mod:`simdb.testing.session` -- a stack started once for a test session, reset per test;
* :mod:`simdb.testing.clients` -- a client per fake (thriftpy2, redis-py, SQLAlchemy);
* :mod:`simdb.testing.overrides` -- stubs and faults for one test, undone after it;
* :mod:`simdb.testing.journal` -- assertions on a Thrift fake's journal.

See docs/pytest.md.
"""
