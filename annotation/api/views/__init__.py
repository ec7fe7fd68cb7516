"""API views, one module per resource. Each parses input, calls one service or selector, renders."""
