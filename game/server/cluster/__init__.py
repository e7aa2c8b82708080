"""The Redis mode of the server: many processes, one game world (see `hub`)."""
