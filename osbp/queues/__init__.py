"""Tickets, stations (joint counters), seats, the atomic call-next, station actions and the wait estimator."""
