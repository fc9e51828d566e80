"""pytest plugin: a tributary-server per test session, reset before every test.

Fixtures
    tributary_server      (session) the running server: .url, .control
    tributary             (function) resets the server, then hands out .url,
                          .kinesis, .kinesisanalyticsv2, .faults, .clock,
                          .applications, .reset()
    kinesis               (function) a boto3 Kinesis client on the server
    kinesisanalyticsv2    (function) a boto3 Managed Flink client on the server
    faults                (function) fault rules (pytest_tributary.control.Faults)
    clock                 (function) the server's manual clock (...control.Clock)
    applications          (function) Managed Flink job faults (...control.Applications)
    tributary_server_factory (session) starts extra servers with other flags

Options (command line or ini)
    --tributary-server PATH     the binary (default: $TRIBUTARY_SERVER, then PATH)
    --tributary-server-arg ARG  an extra flag for the server (repeatable)
    --tributary-url URL         use a server that is already running (started
                                with --test-control; --manual-clock to move time)
    --tributary-region REGION   region of the clients (default us-east-1)

Loaded automatically once installed (pip install ./python); from a source
tree, `python3 -m pytest -p pytest_tributary.plugin` with python/ on
PYTHONPATH.
"""

import pytest

from .control import Control, TributaryServer

DUMMY_ACCESS_KEY = "AKIDTRIBUTARYTEST"
DUMMY_SECRET_KEY = "tributary-test-secret"


def pytest_addoption(parser):
    group = parser.getgroup("tributary", "tributary-server for Kinesis and Managed Flink tests")
    group.addoption("--tributary-server", default=None,
                    help="path of tributary-server (default: $TRIBUTARY_SERVER, then PATH)")
    group.addoption("--tributary-server-arg", action="append", default=[],
                    help="an extra tributary-server flag (repeatable), e.g. --tributary-server-arg=--data-dir=/tmp/x")
    group.addoption("--tributary-url", default=None,
                    help="use this running tributary-server (started with --test-control)")
    group.addoption("--tributary-region", default="us-east-1", help="region of the boto3 clients")


class Tributary:
    """What the `tributary` fixture hands a test."""

    def __init__(self, url, region, control):
        self.url = url
        self.region = region
        self.control = control
        self.faults = control.faults
        self.clock = control.clock
        self.applications = control.applications
        self._clients = {}

    def client(self, service, **kwargs):
        """A boto3 client for `service` ("kinesis", "kinesisanalyticsv2") on the server,
        with dummy credentials and standard retries turned off (so injected faults reach
        the code under test, not botocore's retry loop)."""
        import boto3
        import botocore.config

        config = botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=5,
                                        read_timeout=60)
        return boto3.client(service, endpoint_url=self.url, region_name=self.region,
                            aws_access_key_id=DUMMY_ACCESS_KEY, aws_secret_access_key=DUMMY_SECRET_KEY,
                            config=kwargs.pop("config", config), **kwargs)

    @property
    def kinesis(self):
        if "kinesis" not in self._clients:
            self._clients["kinesis"] = self.client("kinesis")
            self.control.kinesis = self._clients["kinesis"]
        return self._clients["kinesis"]

    @property
    def kinesisanalyticsv2(self):
        if "kinesisanalyticsv2" not in self._clients:
            self._clients["kinesisanalyticsv2"] = self.client("kinesisanalyticsv2")
        return self._clients["kinesisanalyticsv2"]

    def reset(self):
        self.control.reset()


@pytest.fixture(scope="session")
def tributary_server_factory(request):
    """Starts tributary-servers with extra flags; all are stopped at the end of the session.

        server = tributary_server_factory("--create-delay", "500")
    """
    started = []
    binary = request.config.getoption("--tributary-server")

    def start(*extra_args):
        server = TributaryServer.start(binary=binary, extra_args=extra_args,
                                       region=request.config.getoption("--tributary-region"))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def tributary_server(request, tributary_server_factory):
    """The session's tributary-server (or the one --tributary-url names)."""
    url = request.config.getoption("--tributary-url")
    if url:
        region = request.config.getoption("--tributary-region")
        server = TributaryServer(None, url, region=region)
        yield server
        return
    yield tributary_server_factory(*request.config.getoption("--tributary-server-arg"))


@pytest.fixture
def tributary(tributary_server):
    """The server, reset: no stream, consumer, application or fault rule left from
    an earlier test."""
    control = Control(tributary_server.url, credentials=tributary_server.credentials,
                      region=tributary_server.region)
    control.reset()
    return Tributary(tributary_server.url, tributary_server.region, control)


@pytest.fixture
def kinesis(tributary):
    return tributary.kinesis


@pytest.fixture
def kinesisanalyticsv2(tributary):
    return tributary.kinesisanalyticsv2


@pytest.fixture
def faults(tributary):
    return tributary.faults


@pytest.fixture
def clock(tributary):
    # The retention helper reads the stream's retention with the Kinesis client.
    tributary.control.kinesis = tributary.kinesis
    return tributary.clock


@pytest.fixture
def applications(tributary):
    return tributary.applications
