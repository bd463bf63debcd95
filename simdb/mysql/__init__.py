"""The MySQL fake: a MySQL wire-protocol server over embedded SQLite, and a real-MariaDB mode.

Modules: ``catalog`` (DDL parsing and rendering), ``rows`` (snapshot row values),
``seed`` (loading an SQL part through SQLAlchemy), ``translate`` (MySQL -> SQLite with a
digest-keyed cache), ``engine`` (the SQLite store, per-connection transactions),
``server`` (the mysql-mimic front end), ``errors`` (MySQL error codes and texts),
``real`` (a MariaDB child process) and ``fake`` (the :class:`simdb.fake.Fake`).
"""
