#!/usr/bin/python3
"""qemu guestfwd helper: relays one guest TCP connection (stdin/stdout, given by qemu's cmd: forward)
to 127.0.0.1:<port> on the host, where fakeaws listens. qemu spawns one relay per connection.
stderr is the guest connection too, so nothing is ever printed."""
import os
import selectors
import socket
import sys


def main():
    port = int(sys.argv[1])
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError:
        return 1
    sock.settimeout(None)
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ, "in")
    sel.register(sock, selectors.EVENT_READ, "sock")
    open_in = True
    while True:
        for key, _ in sel.select(timeout=600):
            if key.data == "in":
                data = os.read(0, 65536)
                if not data:
                    sel.unregister(0)
                    open_in = False
                    try:
                        sock.shutdown(socket.SHUT_WR)
                    except OSError:
                        return 0
                else:
                    sock.sendall(data)
            else:
                data = sock.recv(65536)
                if not data:
                    return 0
                view = memoryview(data)
                while view:
                    n = os.write(1, view)
                    view = view[n:]
        if not open_in and not sel.get_map():
            return 0


if __name__ == "__main__":
    sys.exit(main())
