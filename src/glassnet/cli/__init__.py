"""The ``glassnet`` command (see ``glassnet --help``).

``main`` parses the command line and dispatches to one module per kind of work:
``classify`` (train / evaluate / predict image classifiers), ``autoencoder``, ``text``
(character language models: train and sample) and ``inspect_cmd`` (demonstrations).
Those share ``runs`` (run folder, JSON files, image datasets) and draw their pictures
with ``glassnet.inspect``; none of them imports ``main`` or one another.
"""
