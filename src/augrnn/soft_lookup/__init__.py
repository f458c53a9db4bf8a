"""Attention as soft lookup: the trick every augmentation shares, on a key-value table."""
