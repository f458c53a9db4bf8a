"""The book layer: what chapter notebooks call (`check_parameters`, `train`, tables), the runner that
executes them (`augrnn.book.runbook`) and the shared plots."""

from .chapter import check_parameters, collapsed, mean_sd, metrics_table, timing_box, train

__all__ = ["check_parameters", "collapsed", "mean_sd", "metrics_table", "timing_box", "train"]
