"""Figures: Altair charts for analyses and themes, rendered offline to PNG/SVG for reports."""
