"""Running a stack's fakes as Docker containers, and exporting it to Compose and Kubernetes.

Everything here works from a :class:`~simdb.containers.spec.StackSpec`: what each fake's container runs,
which port it serves, how it is probed. Where the fakes come from (a stack file) is not this package's
business.
"""
