"""Data sets: the CLDR translation corpus, Tatoeba pairs, the Free Spoken Digit Dataset, and scikit-learn's
digits. Every loader finds its data by one route (`augrnn.core.io.find_data`)."""
