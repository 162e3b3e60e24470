"""The pages of the learning titles, one module per area."""
