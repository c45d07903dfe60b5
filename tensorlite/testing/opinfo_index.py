"""OpInfo entries for shape and indexing ops (ops/shape.py)."""
