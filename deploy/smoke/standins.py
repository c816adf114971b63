"""deploy-smoke: testkit's Graph API stand-in (:9081) and Zalo stand-in (:9082) on every interface of their
container, and what they received as JSON on GET :9080/sent (deploy/smoke/compose.smoke.yml)."""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from testkit.graph_stand_in import GraphStandIn
from testkit.zalo_stand_in import ZaloStandIn

graph = GraphStandIn().start(host="0.0.0.0", port=9081)
zalo = ZaloStandIn(
    app_id=os.environ["ZALO_APP_ID"],
    app_secret=os.environ["ZALO_APP_SECRET"],
    access_token=os.environ["ZALO_ACCESS_TOKEN"],
    refresh_token=os.environ["ZALO_REFRESH_TOKEN"],
).start(host="0.0.0.0", port=9082)


def records():
    return {
        "messenger": [
            {"recipient": s.recipient, "text": s.text, "ok": s.ok, "status": s.status} for s in graph.sent
        ],
        "zalo": [{"recipient": s.recipient, "text": s.text, "ok": s.ok, "error": s.error} for s in zalo.sent],
        "zalo_refreshes": len(zalo.refreshes),
    }


class Records(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        data = json.dumps(records(), ensure_ascii=False).encode("utf-8")
        self.send_response(200 if self.path == "/sent" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:
        pass


print("stand-ins: Graph API :9081, Zalo :9082, records :9080/sent", flush=True)
server = ThreadingHTTPServer(("0.0.0.0", 9080), Records)
threading.Thread(target=server.serve_forever, daemon=True).start()
threading.Event().wait()
