"""Tickets, stations and the atomic call-next. Operations never commit.

Queues own the ticket's state (its place in the queues) and drive the hall: they lock the ticket, ask the workflow
(osbp/workflow) to move the crossing's steps, then move the ticket to match. The import runs one way: queues use the
workflow; the workflow knows nothing of tickets.

- ``tickets``: issuing, and every change of a ticket's place (enqueue, requeue, release, the ticket lock);
- ``calling``: the atomic call-next and the lines' lengths;
- ``stations``: seats; opening, pausing and closing a counter;
- ``counter``: recall, no-show, transfer, priority, start and decide.
"""

from osbp.queues.operations.calling import (
    SHORTLIST_PER_KIND,
    call_next,
    called_ticket,
    current_ticket,
    queue_lengths,
)
from osbp.queues.operations.counter import (
    decide_my_step,
    decide_step,
    no_show,
    recall,
    set_priority,
    start_my_step,
    start_step,
    transfer,
    transfer_targets,
)
from osbp.queues.operations.stations import (
    close_station,
    get_station,
    leave_seat,
    list_stations,
    open_station,
    pause_station,
    seated_officers,
    take_seat,
)
from osbp.queues.operations.tickets import (
    channel_of,
    enqueue,
    ensure_channel,
    get_ticket_by_code,
    issue_ticket,
    lock_ticket,
    next_ticket_number,
    requeue,
    service_date,
)

__all__ = [
    "SHORTLIST_PER_KIND",
    "call_next",
    "called_ticket",
    "channel_of",
    "close_station",
    "current_ticket",
    "decide_my_step",
    "decide_step",
    "enqueue",
    "ensure_channel",
    "get_station",
    "get_ticket_by_code",
    "issue_ticket",
    "leave_seat",
    "list_stations",
    "lock_ticket",
    "next_ticket_number",
    "no_show",
    "open_station",
    "pause_station",
    "queue_lengths",
    "recall",
    "requeue",
    "seated_officers",
    "service_date",
    "set_priority",
    "start_my_step",
    "start_step",
    "take_seat",
    "transfer",
    "transfer_targets",
]
