"""Search folding lives in motcua/folding.py: the kiosk folds the same way for its offline catalogue."""

from motcua.folding import fold, fold_words

__all__ = ["fold", "fold_words"]
