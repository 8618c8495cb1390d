"""Each agency's own checks on a step: immigration (identity, travel document), customs, health.

The shared sequence lives in ``osbp.workflow``; modules here add what one agency records on its step.
"""
