"""Tickets, stations (joint counters), seats and the atomic call-next."""
