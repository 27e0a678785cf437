"""Lambda entry point: builds the Sessions Marketplace API."""

import gc

# A cold start's imports create thousands of objects that live as long as the process. The cyclic collector
# would scan them again and again while they load, and at every later collection: it waits until they are in
# place, then they are moved out of its reach (gc.freeze). About 4% of a cold start's instructions (make bench).
gc.disable()
try:
    from chalicelib.http.application import build_app

    app = build_app()
finally:
    gc.freeze()
    gc.enable()
