"""The ``glassnet`` command (see ``glassnet --help``)."""
