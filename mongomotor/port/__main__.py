"""``python -m mongomotor.port PATH...``: the same as ``mongomotor port PATH...``."""

import sys

from mongomotor.port.cli import main

sys.exit(main(["port", *sys.argv[1:]]))
