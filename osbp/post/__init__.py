"""The post: the OSBP facility, its two countries and its agencies."""
