"""Serving functions: deploy a model version to an endpoint, and drive rollouts."""
