#!/usr/bin/env bash
# Time from `git clone` to the chat answering its first question through `make run`, and its parts:
# clone, install (core dependencies only), indexing seeds/ (with the one-time encoder export), the
# page serving, the first answer through the /ask API.
#
# Usage: benchmarks/first_run.sh [REPOSITORY] [WORKDIR]   (port 7860 must be free; the app is stopped after)
set -euo pipefail
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
work=${2:-$(mktemp -d)}
now() { date +%s.%N; }
t0=$(now)
git clone -q "$repo" "$work/newsdesk"
cd "$work/newsdesk"
t_clone=$(now)
(make run > "$work/make_run.log" 2>&1 &)
until [ -f .venv/.installed-run ]; do sleep 1; done
t_installed=$(now)
until [ -f index/LIVE ]; do sleep 1; done
t_indexed=$(now)
until curl -s -o /dev/null http://127.0.0.1:7860/; do sleep 1; done
t_served=$(now)
.venv/bin/python - <<'PY'
import json, urllib.request
# the public /ask API through gradio's HTTP queue protocol would need gradio_client (a test tool);
# the page's own endpoint is the same call, made here with the standard library
body = json.dumps({"data": ["How many civilians are trapped in eastern Aleppo?", [], [], "", ""]}).encode()
req = urllib.request.Request("http://127.0.0.1:7860/gradio_api/call/ask", body, {"Content-Type": "application/json"})
event = json.loads(urllib.request.urlopen(req, timeout=300).read())["event_id"]
with urllib.request.urlopen(f"http://127.0.0.1:7860/gradio_api/call/ask/{event}", timeout=300) as stream:
    text = stream.read().decode()
assert "250,000" in text, text[:300]
print("first answer holds the quote")
PY
t_answered=$(now)
pkill -f "$work/newsdesk/.venv/bin/python app.py" || pkill -f ".venv/bin/python app.py" || true
python3 -c "
t0,c,i,x,s,a=$t0,$t_clone,$t_installed,$t_indexed,$t_served,$t_answered
print(f'clone {c-t0:.0f} s; install {i-c:.0f} s; index seeds/ {x-i:.0f} s; serve {s-x:.0f} s; first answer {a-s:.1f} s; total {a-t0:.0f} s')"
