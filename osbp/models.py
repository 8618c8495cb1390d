"""Import every model module so the metadata (and Alembic) sees all tables."""

from osbp.agencies.immigration.models import TravellerIdentity  # noqa: F401
from osbp.audit import chain  # noqa: F401  (seals audit rows into the hash chain at flush)
from osbp.audit.models import AuditChainHead, AuditEvent  # noqa: F401
from osbp.auth.models import ApiToken, LoginThrottle, TotpCredential, User  # noqa: F401
from osbp.bilateral.models import BilateralReport  # noqa: F401
from osbp.post.models import Agency, Post  # noqa: F401
from osbp.queues.models import Seat, Station, Ticket, TicketCounter  # noqa: F401
from osbp.sequence import LiveSequence  # noqa: F401
from osbp.workflow.models import Crossing, Readmission, Route, RouteStep, Step, StepEvent, StepKind  # noqa: F401
