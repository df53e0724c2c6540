"""The classroom benchmark (benchmarks/classroom.py) and the classroom layout (scripts/classroom.py).

The fast tests check the benchmark's arithmetic against peers (numpy's percentile) and its refusals. The slow
ones start the real layout (two replicas behind nginx): a short class of 10 sessions must see no error and no
disconnect (times are reported, never asserted), sessions stay on their replica, and a replica's death leaves
the other serving.
"""

from __future__ import annotations

import asyncio
import sys
import time
import urllib.request

import numpy as np
import pytest

from benchmarks import classroom as bench

from .conftest import PROJECT_ROOT


def test_mix_is_parsed_and_bad_mixes_are_refused_by_name():
    assert bench.parse_mix("compare=0.6,inside=0.2,language_model=0.2") == {
        "compare": 0.6,
        "inside": 0.2,
        "language_model": 0.2,
    }
    for bad, said in [
        ("compare=0.5", "sum to 1"),
        ("compare=0.5,nowhere=0.5", "nowhere"),
        ("compare", "page=share"),
        ("compare=half", "not a number"),
        ("compare=1.5,inside=-0.5", "(0, 1]"),
        ("", "sum to 1"),
    ]:
        with pytest.raises(ValueError, match=said.replace("(", r"\(").replace("]", r"\]")):
            bench.parse_mix(bad)


@pytest.mark.parametrize("sessions", [1, 7, 10, 30, 31, 200])
def test_pages_follow_the_mix_by_largest_remainder(sessions):
    mix = {"compare": 0.6, "inside": 0.2, "language_model": 0.2}
    pages = bench.assign_pages(sessions, mix)
    assert len(pages) == sessions
    counts = {page: pages.count(page) for page in mix}
    for page, share in mix.items():  # each within one of its exact share
        assert abs(counts[page] - share * sessions) < 1, (sessions, counts)
    # Interleaved: a class arriving at once is mixed (the first three sessions are three pages when possible).
    assert len(set(pages[:3])) == min(3, sessions)


def test_assign_pages_by_hand():
    assert bench.assign_pages(10, {"compare": 0.6, "inside": 0.2, "language_model": 0.2}).count("compare") == 6
    # 7 × (0.5, 0.25, 0.25) = 3.5, 1.75, 1.75: floors 3, 1, 1; the two largest remainders (0.75, 0.75) get one more.
    pages = bench.assign_pages(7, {"compare": 0.5, "inside": 0.25, "language_model": 0.25})
    assert (pages.count("compare"), pages.count("inside"), pages.count("language_model")) == (3, 2, 2)


@pytest.mark.parametrize("count", [1, 2, 19, 20, 21, 150])
def test_percentile_is_the_nearest_rank_of_numpy(count):
    values = list(np.random.default_rng(count).exponential(size=count))
    for share in (0.5, 0.95, 1.0):
        assert bench.percentile(values, share) == np.percentile(values, share * 100, method="inverted_cdf")


def test_summary_of_nothing_and_of_times():
    assert bench.summarise([]) == {"count": 0}
    assert bench.summarise([0.3, 0.1, 0.2]) == {"count": 3, "p50": 0.2, "p95": 0.3, "max": 0.3}


@pytest.mark.parametrize(
    "arguments",
    [
        ["--sessions", "0"],
        ["--sessions", "201"],
        ["--sessions", "ten"],
        ["--submits", "21"],
        ["--mix", "compare=2"],
        ["--layout", "cluster"],
        ["--url", "http://example.com:8501"],
    ],
)
def test_out_of_bounds_arguments_exit_2_before_any_work(arguments, capsys):
    with pytest.raises(SystemExit) as stopped:
        bench.parse_arguments(arguments)
    assert stopped.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_only_loopback_servers_are_driven():
    bench.require_loopback("http://127.0.0.1:8501")
    bench.require_loopback("http://localhost:9000")
    with pytest.raises(ValueError, match="loopback"):
        bench.require_loopback("http://10.0.0.5:8501")


# The layout: started once for the slow tests below (about 30 s: two replicas load one after the other).


@pytest.fixture(scope="module")
def layout():
    sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
    from classroom import RUN_DIR, Classroom

    from benchmarks.browser import free_port

    with Classroom(free_port(), replicas=2) as running:
        yield running, RUN_DIR / "access.log"


def replica_of(log_path, key: str, after_lines: int = 0) -> set[str]:
    """The replicas that answered a sticky key's requests, from nginx's log (lines after `after_lines`); when
    nginx tried a dead replica first, the one that answered is the last of the field's list."""
    lines = log_path.read_text(encoding="utf-8").splitlines()[after_lines:]
    return {line.split("|")[2].split(", ")[-1] for line in lines if line.split("|")[1] == key}


def sticky_key(cookie_header: str) -> str:
    """The replica cookie's value among the cookies a first visit was given."""
    cookies = dict(part.strip().split("=", 1) for part in cookie_header.split(";") if "=" in part)
    return cookies["rnndemo_replica"]


@pytest.mark.slow
def test_a_short_class_on_the_layout_sees_no_error_and_no_disconnect(layout):
    """The CI class: 10 mixed sessions, 2 reviews each, after the benchmark's own self-check against the CLI. Two
    open Inside from a link that turns on "Measure which words mattered", and must see every word's importance.
    Meanwhile one more visitor trains a live race, which must train through the class (its worker is a process)."""
    running, _ = layout
    mix = bench.parse_mix("compare=0.4,inside=0.2,inside_measured=0.2,language_model=0.2")
    result = bench.measure(running.url, sessions=10, mix=mix, submits=2, seed=3, race=True)
    assert result["race"]["trained"] and not result["race"]["errors"], result["race"]
    assert result["self_check"] == "ok", result["self_check"]
    assert result["errors"] == 0 and result["disconnects"] == 0, result["error_examples"]
    assert result["unfinished_submits"] == 0 and not result["timed_out"]
    assert result["all"]["count"] == 20
    assert len(result["server_rss_mb"]) >= 2  # both replicas were found and measured


@pytest.mark.slow
def test_sessions_stay_on_their_replica_and_survive_a_dead_one(layout):
    running, log_path = layout
    # New visitors until one is pinned to each replica (each first visit hashes a fresh request id).
    pinned: dict[str, str] = {}
    for _ in range(40):
        cookie = bench.sticky_cookie(running.url)
        key = sticky_key(cookie)
        request = urllib.request.Request(running.url + "/_stcore/health", headers={"Cookie": cookie})
        assert urllib.request.urlopen(request, timeout=10).read() == b"ok"
        time.sleep(0.2)  # nginx writes the line when the request ends
        replicas = replica_of(log_path, key)
        assert len(replicas) == 1, replicas
        pinned.setdefault(replicas.pop(), cookie)
        if len(pinned) == 2:
            break
    assert len(pinned) == 2, f"every visitor went to {set(pinned)}"
    text = "A warm, funny and beautifully acted film; I loved every minute of it."
    expected = bench.cli_verdicts(text)

    async def session(cookie: str) -> list[str]:
        async with bench.connect(running.url, cookie=cookie) as client:
            opened = await client.run(page="compare")
            assert not opened["exceptions"], opened["exceptions"]
            drawn = [await client.submit(text), await client.submit("it was a film"), await client.submit(text)]
        assert not any(each["exceptions"] for each in drawn)
        return sorted(drawn[-1]["deltas"])

    async def both() -> list[list[str]]:
        return await asyncio.gather(*(session(cookie) for cookie in pinned.values()))

    assert asyncio.run(both()) == [expected, expected]
    time.sleep(0.5)
    for replica, cookie in pinned.items():  # every request and websocket of a visitor went to its replica
        assert replica_of(log_path, sticky_key(cookie)) == {replica}

    # One replica dies: its visitor's next page load and session are served by the other, correctly.
    dead_address = next(iter(pinned))
    dead = running.replica_urls.index(f"http://{dead_address}")
    running.replicas[dead].kill()
    running.replicas[dead].wait(timeout=10)
    lines_before = len(log_path.read_text(encoding="utf-8").splitlines())
    assert asyncio.run(session(pinned[dead_address])) == expected
    time.sleep(0.5)
    moved = replica_of(log_path, sticky_key(pinned[dead_address]), after_lines=lines_before)
    survivor = next(address for address in pinned if address != dead_address)
    assert survivor in moved, moved
    # The other visitor never noticed.
    assert asyncio.run(session(pinned[survivor])) == expected
