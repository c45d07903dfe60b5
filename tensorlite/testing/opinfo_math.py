"""OpInfo entries for more elementwise math (ops/elementwise.py, ops/compare.py)."""
