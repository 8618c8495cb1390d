"""Immigration: the person's identity and travel document, recorded at the first immigration step.

Importing the package registers its control with the workflow (osbp/workflow/contract.py).
"""

from osbp.agencies.immigration.control import ImmigrationControl
from osbp.workflow import contract

control = contract.register(ImmigrationControl())
