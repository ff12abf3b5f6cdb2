"""Model flavors: how a registered model version is stored and loaded, shared by the
functions that produce models and the Serve apps that serve them."""
