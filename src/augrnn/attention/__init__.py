"""Attentional interfaces: score functions and soft attention (`mechanism`), an attending
encoder-decoder (`seq2seq`), translation, speech (Listen, Attend and Spell), image strips (Show,
Attend and Tell) and the chapter's runs (`experiments`)."""
