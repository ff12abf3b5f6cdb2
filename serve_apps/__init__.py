"""Ray Serve applications: gateway (here), and later model, router, rag and llm apps."""
