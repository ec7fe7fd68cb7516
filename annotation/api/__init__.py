"""The REST API (/api/v1/): thin DRF views over annotation's services and selectors."""
