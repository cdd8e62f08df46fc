"""The operator's and developer's tools around the services: the `jinhui` command, the local
stack (embedded PostgreSQL and broker), the in-process runner, the demo and the AsyncAPI
generator. Tools may use any service's internals; the services and `shared` never import this."""
