"""The ``glassnet`` command (see ``glassnet --help``).

``main`` parses the command line and dispatches to one module per kind of work:
``classify`` (train / evaluate / predict image classifiers), ``autoencoder``, ``text``
(character language models: train and sample), ``inspect_cmd`` (demonstrations) and
``info`` (what a model file or run folder holds).
Those share ``runs`` (run folder, JSON files, image datasets) and draw their pictures
with ``glassnet.inspect``; none of them imports ``main`` or one another.
"""
