"""`Wire`: what one browser tab and its Streamlit server said to each other.

Read from the tab's websocket (Playwright's `websocket` event, framesent and
framereceived) and decoded with Streamlit's own protobuf classes. Used by the one
idle condition (tests/e2e/waits.py), which the sync `AppPage.wait_idle` and the async
`Tab.wait_idle` both drive: "idle" includes "the server has answered
every rerun request this tab sent" (`Wire.answered`), which the browser's own run
state cannot tell. The handlers are plain functions, so the same object serves a
sync or an async page.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["Wire"]


class Wire:
    """What one tab and its Streamlit server said to each other over the websocket,
    decoded with Streamlit's own protobuf classes: the rerun requests (page, fragment,
    query string, the values of the widgets keyed `watch`) and, per script run, its
    start, end and the watched widgets' values as the server drew them. A failing
    test prints `tail()`: which request carried which value, and what the server made
    of it."""

    def __init__(self, watch: str = "seed", keep: int = 80) -> None:
        self.watch, self.keep, self.events = f"-{watch}", keep, []
        self.t0 = time.monotonic()
        # Message order: of the last rerun request sent, the last run start and the last
        # run that ended (not one stopped early for another rerun) received.
        self._seq = self._sent_at = self._started_at = self._done_at = 0
        self._cached: dict[str, str] = {}  # message hash -> its line (a resend may be a ref)

    def note(self, text: str) -> None:
        """A line of the test's own (what the user did) between the messages."""
        self._add(f"# {text}")

    def _add(self, text: str) -> None:
        self.events.append(f"{time.monotonic() - self.t0:7.2f} {text}")
        del self.events[:-self.keep]

    def attach(self, ws: Any) -> None:
        ws.on("framesent", self._sent)
        ws.on("framereceived", self._received)

    def _sent(self, payload: Any) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        try:
            msg = BackMsg.FromString(payload if isinstance(payload, bytes) else payload.encode())
        except Exception:  # noqa: BLE001 - a frame that is not a BackMsg: not ours to judge
            return
        if msg.WhichOneof("type") != "rerun_script":
            return
        self._seq += 1
        self._sent_at = self._seq
        r = msg.rerun_script
        watched = {w.id[-12:]: _value(w) for w in r.widget_states.widgets if w.id.endswith(self.watch)}
        self._add(f"> rerun page={r.page_script_hash[:6]} fragment={r.fragment_id[:6] or '-'} "
                  f"auto={r.is_auto_rerun} widgets={len(r.widget_states.widgets)} {watched} "
                  f"query={r.query_string!r}")

    def _received(self, payload: Any) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        if not isinstance(payload, bytes):
            return
        try:
            msg = ForwardMsg.FromString(payload)
        except Exception:  # noqa: BLE001
            return
        kind = msg.WhichOneof("type")
        if kind in ("new_session", "script_finished"):
            self._seq += 1
        if kind == "new_session":
            self._started_at = self._seq
            self._add(f"< start page={msg.new_session.page_script_hash[:6]}")
        elif kind == "script_finished":
            if msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self._done_at = self._seq
            self._add(f"< end {ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)}")
        elif kind == "page_info_changed":
            self._add(f"< url query={msg.page_info_changed.query_string!r}")
        elif kind == "ref_hash":
            if msg.ref_hash in self._cached:
                self._add(self._cached[msg.ref_hash] + " (from the browser's cache)")
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            el = msg.delta.new_element
            widget = getattr(el, el.WhichOneof("type") or "", None)
            wid = getattr(widget, "id", "")
            if isinstance(wid, str) and wid.endswith(self.watch):
                line = (f"< draw {wid[-12:]} value={getattr(widget, 'value', None)} "
                        f"set_value={getattr(widget, 'set_value', None)}")
                self._cached[msg.hash] = line
                self._add(line)

    def answered(self) -> bool:
        """Whether the server has answered every rerun request sent: a run started after
        the last one and ran to its end. The browser shows "not running" from the moment
        a request leaves until the server starts its run (on a loaded server, a second or
        more), so Streamlit's own run state cannot tell that gap from idle."""
        return self._done_at > self._started_at > self._sent_at

    def tail(self) -> str:
        return "\n".join(self.events)


def _value(state: Any) -> Any:
    kind = state.WhichOneof("value")
    return getattr(state, kind) if kind else None
