"""Shared by every augmentation: configs, the training loop, stored runs, atomic io, provenance."""
