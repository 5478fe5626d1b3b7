"""A small shop simulation: the example that ./tools/demo records."""
