"""Fleet's built-in functions, one module per family. Discovered by the registry."""
