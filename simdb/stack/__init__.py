"""Stacks: one ``simdb.yaml`` declares a service's dependency graph; ``simdb up`` runs it.

* :mod:`simdb.stack.model` -- the typed, frozen stack objects;
* :mod:`simdb.stack.load` -- reading YAML, ``extends:`` merging and validation errors;
* :mod:`simdb.stack.build` -- unstarted fakes from a stack;
* :mod:`simdb.stack.run` -- start, readiness, stop;
* :mod:`simdb.stack.state` -- the ``.simdb/<stack>/`` state of a running stack;
* :mod:`simdb.stack.render` -- env files and Jinja2 templates from the endpoints;
* :mod:`simdb.stack.serverset` -- serverset files and ZooKeeper registration.
"""
