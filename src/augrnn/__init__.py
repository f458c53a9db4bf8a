"""augrnn: attention and augmented recurrent neural networks, replicated."""

__version__ = "0.1.0"
