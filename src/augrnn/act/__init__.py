"""Adaptive Computation Time (Graves 2016): the halting mechanism (`mechanism`), the parity task
(`parity`) and the chapter's runs (`experiments`)."""
