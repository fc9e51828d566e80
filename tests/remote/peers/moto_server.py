"""Starts moto's server (every AWS service it mocks: DynamoDB, STS, ...) on
loopback for tests/remote, on a kernel-picked port, and prints
"listening on http://127.0.0.1:PORT". moto is a pip package of the machine
image (tests/remote/CMakeLists.txt finds a python3 that imports it).

usage: python3 moto_server.py [PORT]
"""
import signal
import sys
import threading

from moto.server import ThreadedMotoServer


def main():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 0,
                                verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"listening on http://{host}:{port}", flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    server.stop()


if __name__ == "__main__":
    main()
