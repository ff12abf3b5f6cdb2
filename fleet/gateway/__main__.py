"""`python -m fleet.gateway` is the Fleet server (see fleet.server)."""

from fleet.server import main

if __name__ == "__main__":
    main()
