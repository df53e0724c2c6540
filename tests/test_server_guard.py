"""The served app over Streamlit's own websocket protocol: a class arriving at once on a cold server, and what a
browser may send or learn. No browsers: a websocket client with the protobufs shipped in streamlit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from benchmarks.browser import free_port, streamlit_server
from benchmarks.browser_sessions import server_rss_megabytes

from .conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow  # starts real servers


async def open_page(url: str, page: str, clear_caches: int = 0) -> dict:
    """One session: run `page` until its script finishes (after the legacy router's hop), then optionally send
    `clear_caches` clear_cache messages; what the session saw."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    seen = {"exceptions": 0, "elements": 0, "new_session": None}
    address = url.replace("http://", "ws://") + "/_stcore/stream"
    async with websockets.connect(address, subprotocols=["streamlit"], max_size=None) as socket:
        request = BackMsg()
        request.rerun_script.query_string = ""
        request.rerun_script.page_name = page
        await socket.send(request.SerializeToString())
        while True:
            message = ForwardMsg()
            message.ParseFromString(await asyncio.wait_for(socket.recv(), 180))
            kind = message.WhichOneof("type")
            if kind == "new_session":
                seen["new_session"] = message.new_session
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                seen["elements"] += 1
                seen["exceptions"] += message.delta.new_element.WhichOneof("type") == "exception"
            elif kind == "script_finished" and seen["elements"]:
                break
        for _ in range(clear_caches):
            clear = BackMsg()
            clear.clear_cache = True
            await socket.send(clear.SerializeToString())
            await asyncio.sleep(0.2)
    return seen


def test_no_browser_can_clear_the_caches_or_learn_server_details():
    """Ten clear_cache messages are ignored (no reload, memory flat); a new session is told no path,
    version, OS or installation id."""
    log: list[str] = []
    with streamlit_server() as (url, process, _):
        import threading

        threading.Thread(target=lambda: [log.append(line) for line in process.stdout], daemon=True).start()
        first = asyncio.run(open_page(url, "compare"))
        before = server_rss_megabytes(process.pid)
        asyncio.run(open_page(url, "compare", clear_caches=10))
        time.sleep(1)
        after = server_rss_megabytes(process.pid)
    new_session = first["new_session"]
    assert new_session.main_script_path == "app.py"
    environment = new_session.initialize.environment_info
    assert not new_session.initialize.user_info.installation_id
    assert not (environment.streamlit_version or environment.python_version or environment.server_os)
    assert after - before <= 100, (before, after)
    assert sum("ignored a clear_cache" in line for line in log) == 10
    assert sum("rnndemo: loading models" in line for line in log) == 1


def test_four_pages_at_once_on_a_cold_bare_server():
    """Four sessions open four different pages of a fresh `streamlit run app.py` (no launcher preload) at the
    same moment: no page shows an error and the models load once (this deadlocked every page before)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
        + ["--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=PROJECT_ROOT,
        env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)

        async def burst():
            return await asyncio.gather(
                *(open_page(url, page) for page in ("inside", "language_model", "compare", "embeddings"))
            )

        results = asyncio.run(burst())
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert all(result["exceptions"] == 0 and result["elements"] > 0 for result in results), results
    assert output.count("rnndemo: loading models") == 1, output[-2000:]
