"""Bilateral layer: Joint Border Committee reports (WeasyPrint PDFs, CSV annexes) and the exchange
between the two countries' systems. It reads the workflow's step timeline (``StepEvent``) and the
public API shapes in ``osbp.api.serializers``; it is built in a later issue.
"""
