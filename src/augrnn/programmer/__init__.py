"""The Neural Programmer (Neelakantan et al. 2015): the operations (`operations`), table questions
(`tables`), the model (`model`), the article's arithmetic programmer (`arithmetic`), what the chapter
measures (`analysis`) and its runs (`experiments`)."""
