"""The exit gate: gate officers scan gate passes, each valid once; the gate-out time ends a crossing's clock."""
