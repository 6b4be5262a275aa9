"""The package version, in its own module so that modules inside glassnet can read it
without importing the package back (an import cycle)."""
__version__ = "0.1.0"
