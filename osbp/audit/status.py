"""Words for the result of a chain check (the verify command and the audit page)."""

from __future__ import annotations

from flask_babel import gettext as _

from osbp.audit.chain import Verification


def describe(result: Verification) -> str:
    if result.problem == "altered":
        return _(
            "row %(seq)s (id %(id)s) was altered: its content does not give its hash.", seq=result.seq, id=result.row_id
        )
    if result.problem == "missing":
        return _("row %(seq)s is missing: it was removed.", seq=result.seq)
    if result.problem == "broken_link":
        return _(
            "row %(seq)s (id %(id)s) does not follow row %(before)s: rows were reordered or replaced.",
            seq=result.seq,
            id=result.row_id,
            before=result.seq - 1,
        )
    if result.problem == "tail_missing":
        return _(
            "rows %(seq)s to %(head)s are missing: the chain head is at row %(head)s.",
            seq=result.seq,
            head=result.head_seq,
        )
    if result.problem == "head_mismatch":
        return _("the chain head does not match row %(seq)s, the last row.", seq=result.seq)
    if result.checked == 0:
        return _("no rows yet.")
    return _(
        "rows %(first)s to %(last)s verified (%(count)s rows).",
        first=result.first_seq,
        last=result.last_seq,
        count=result.checked,
    )
