"""Drive the text selector from Streamlit's AppTest, which cannot run the component's JavaScript.

These send exactly what the browser sends after a selection: the component's trigger (an ``action``)
or its state (a ``selection``), as widget states of the next script run. What the browser would draw
is read back from the data the page handed the component. Tests and benchmarks use them; the app does not.
They rely on AppTest's internals (``_tree``, ``_run``), so a Streamlit upgrade that changes those fails
the tests that use them rather than passing silently.

Example:
    >>> data = component_data(at, "tx_text")  # doctest: +SKIP
    >>> first = data["passages"][0]
    >>> send_action(at, "tx_text", {"kind": "code", "code": "workload",  # doctest: +SKIP
    ...     "parts": [{"passage": first["id"], "start": first["words"][0][0], "end": first["words"][2][1]}]})
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["component_data", "component_element", "send_action", "send_state"]


def component_element(at: Any, key: str) -> Any:
    """The component mounted under ``key`` in the last run (an AppTest ``UnknownElement``)."""
    found = [e for e in at.get("bidi_component") if e.key == key]
    if len(found) != 1:
        raise LookupError(f"{len(found)} components with key {key!r} on the page "
                          f"(keys: {[e.key for e in at.get('bidi_component')]})")
    return found[0]


def component_data(at: Any, key: str) -> dict[str, Any]:
    """The data the page handed the component under ``key`` (what the browser would draw)."""
    proto = component_element(at, key).proto
    return json.loads(proto.json if proto.WhichOneof("data") == "json" else proto.mixed.json)


def send_action(at: Any, key: str, value: dict[str, Any]) -> Any:
    """Run the script with the component's ``action`` trigger set, as after a click in the browser."""
    from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{component_element(at, key).proto.id}__events"
    state.json_trigger_value = json.dumps([{"event": "action", "value": value}])
    return at._run(states)


def send_state(at: Any, key: str, value: dict[str, Any]) -> Any:
    """Run the script with the component's state (e.g. ``{"selection": [...]}``), as after a selection."""
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = component_element(at, key).proto.id
    state.json_value = json.dumps(value)
    return at._run(states)
