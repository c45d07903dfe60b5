"""OpInfo entries for linear algebra (ops/linalg.py)."""
