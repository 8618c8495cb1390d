"""Live queues: display boards, the traders' kiosk and the supervisors' live view, over Flask-SocketIO.

- ``devices.py``: board and kiosk device accounts, their token login and what they may reach (deny by default);
- ``operations.py``: the public ticket status, board and supervisor snapshots (read only, never commit);
- ``kiosk.py``: taking a ticket at the kiosk, once per tap (tap keys shared through Redis when it is configured);
- ``texts.py``: documents to have ready, traders' rights and the labels shown in three languages;
- ``limits.py``: the per-client token bucket of the public status lookup and the memory of device POSTs;
- ``controllers.py``: the pages ``/live/board``, ``/live/kiosk``, ``/live/supervisor`` and their JSON state.

Rooms and the no-personal-data rule of public rooms are in ``osbp/events.py``; socket rules in ``osbp/sockets.py``.
"""
