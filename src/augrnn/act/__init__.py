"""Adaptive Computation Time (Graves 2016): the halting mechanism (`mechanism`), parity (`parity`), the chapter runs (`experiments`)."""
