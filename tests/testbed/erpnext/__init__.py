__version__ = "15.0.0"
