"""Neural Turing Machines (Graves et al. 2014): addressing and memory access as pure tensor functions
(`addressing`, `memory`), the machine and the LSTM baseline (`model`), the algorithmic tasks
(`tasks`) and the chapter's runs (`experiments`)."""
