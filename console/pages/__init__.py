"""The console's pages, one module per kind of user; each calls the services, never a table."""
