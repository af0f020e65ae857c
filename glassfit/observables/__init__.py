"""Forward models of measured quantities, in SI per unit volume (physics.md §4–7)."""
