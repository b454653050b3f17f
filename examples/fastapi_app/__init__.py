"""A small FastAPI blog API on mongomotor: ``make serve`` runs it (see app.py)."""
