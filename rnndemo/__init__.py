"""rnndemo: the Keras text-to-RNN pipeline, one module per stage.

Importing the package is cheap: TensorFlow is imported only by the modules
that need it (models, serving, inspect, training), and only when they are used.
"""

__version__ = "1.0.0"
