"""Serve the newsdesk chat on 127.0.0.1 (builds the index from seeds/ on first start unless --no-build)."""

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant.config import Settings  # noqa: E402
from assistant.ui import serve  # noqa: E402

if __name__ == "__main__":
    serve(Settings.from_env(), build_index="--no-build" not in sys.argv[1:])
