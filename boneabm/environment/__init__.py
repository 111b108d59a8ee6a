"""What cells live in: the culture medium (and, from the environment issue on, fields and bone)."""
