"""Cells: the structure-of-arrays store, the agents that point into it, and how they claim grid sites."""
