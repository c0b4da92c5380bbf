"""Write paths of the analytics app, one module per concern; callers import the concern module."""
