"""pytest-tributary: test Kinesis and Managed Flink code against tributary-server.

Fixtures (pytest_tributary.plugin) start tributary-server once per test session
with its test control API on, reset it before every test, and hand out boto3
clients plus helpers to inject faults and move the server's clock:

    def test_retries(kinesis, faults, clock):
        kinesis.create_stream(StreamName="orders", ShardCount=1)
        faults.throttle_puts(2)          # the next 2 PutRecord calls are throttled
        ...
        clock.advance_past_retention("orders")

The control client (pytest_tributary.control) works without pytest too.
See README.md next to this package and docs/ENDPOINT.md "Test control".
"""

from .control import (Applications, Clock, Control, ControlError, Faults, TributaryServer,
                      find_server_binary)

__version__ = "0.1.0"

__all__ = ["Applications", "Clock", "Control", "ControlError", "Faults", "TributaryServer",
           "find_server_binary", "__version__"]
