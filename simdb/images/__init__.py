"""simdb's container images: the Docker engine connection, the wheelhouse, and ``simdb images build``."""
