"""A local Telegram: a Bot API server on loopback that checks every request against the spec."""

from sandbox.faults import FaultInjector
from sandbox.server import Sandbox
from sandbox.state import SimUser

__all__ = ["FaultInjector", "Sandbox", "SimUser"]
