"""The HTML report of a run (`vaekit report`): one self-contained file. Uses run.py, plotting, sampling, evaluate."""

from vaekit.report.build import ReportOptions, build_report, render, write_report

__all__ = ["ReportOptions", "build_report", "render", "write_report"]
