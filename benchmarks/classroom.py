"""`python -m benchmarks.classroom`: a class on one URL, measured over Streamlit's own websocket protocol.

    python -m benchmarks.classroom --sessions 30 --mix compare=0.6,inside=0.2,language_model=0.2 --submits 5 --json
    python -m benchmarks.classroom --layout single,classroom --sessions 30   # both layouts, side by side
    python -m benchmarks.classroom --url http://127.0.0.1:8501 --sessions 30  # a server already running
    python -m benchmarks.classroom --sessions 10 --race  # 10 students while one more trains a live race

Each session is an asyncio websocket client speaking Streamlit's protocol with the protobuf classes of the
installed `streamlit` package, as a browser tab would: it fetches the page (for the classroom layout's sticky
cookie), opens `/_stcore/stream`, runs its page, then reads for 2-6 s (seeded) and submits a real review into the
page's review box (a BackMsg rerun carrying the box's widget value), `--submits` times. A submit's time runs from
sending that message to the ForwardMsg that says the script finished. Every session's deltas are checked: an
exception element is an error, and on "RNN vs LSTM vs GRU" every verdict must equal the library's for that review.

Before it measures, it checks itself: one session's verdicts must equal `python -m rnndemo predict --json`.
It never starts a browser; it is bounded (at most 200 sessions and 20 submits, 600 s a run) and loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from benchmarks.browser import PROJECT_ROOT, streamlit_server
from benchmarks.browser_sessions import cpu_seconds, sample_texts

PAGES = ("compare", "inside", "inside_measured", "language_model", "embeddings", "tokens")
# A page with options in its link, as a teacher's shared link carries them: "inside_measured" is Inside with
# "Measure which words mattered" on, so each submit also removes every word in turn (occlusion).
PAGE_LINKS = {"inside_measured": ("inside", "inside_measure_words=true")}
DEFAULT_MIX = "compare=0.6,inside=0.2,language_model=0.2"
MAX_SESSIONS = 200
MAX_SUBMITS = 20
RUN_TIMEOUT_SECONDS = 600.0
RACE_HEAD_START_SECONDS = 3.0  # the race is pressed first, so its worker trains through the whole class
RACE_POLL_SECONDS = 0.5  # pages/race.py POLL_SECONDS: the live section's refresh while a race runs
READ_SECONDS = (2.0, 6.0)  # a student reads the page for 2-6 s before the next review
SERVER_COMMAND = "scripts/serve.py"  # what every app process of either layout runs (for CPU and RSS)


@dataclass
class Session:
    """One simulated student: the page they are on, the reviews they submit, and what they saw."""

    index: int
    page: str
    texts: list[str]
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    disconnected: bool = False
    verdicts: list[list[str]] = field(default_factory=list)  # per submit: the metric deltas shown


def parse_mix(text: str) -> dict[str, float]:
    """'compare=0.6,inside=0.4' -> {'compare': 0.6, 'inside': 0.4}; shares must name pages and sum to 1."""
    mix: dict[str, float] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, separator, share = part.partition("=")
        if not separator or name not in PAGES:
            raise ValueError(f"--mix: {part!r} is not page=share with a page among {', '.join(PAGES)}")
        try:
            mix[name] = float(share)
        except ValueError:
            raise ValueError(f"--mix: the share of {name} is not a number: {share!r}") from None
        if not 0 < mix[name] <= 1:
            raise ValueError(f"--mix: the share of {name} must be in (0, 1]")
    if not mix or abs(sum(mix.values()) - 1) > 1e-6:
        raise ValueError(f"--mix: the shares must sum to 1 (they sum to {sum(mix.values()):.3f})")
    return mix


def assign_pages(sessions: int, mix: dict[str, float]) -> list[str]:
    """Each session's page: the mix's shares of `sessions`, rounded by largest remainder, interleaved."""
    exact = {page: share * sessions for page, share in mix.items()}
    counts = {page: int(value) for page, value in exact.items()}
    by_remainder = sorted(exact, key=lambda page: exact[page] - counts[page], reverse=True)
    for page in by_remainder[: sessions - sum(counts.values())]:
        counts[page] += 1
    # Interleave so that sessions opening at once are mixed, as a class is (not 18 compare tabs first).
    pages: list[str] = []
    remaining = {page: count for page, count in counts.items() if count}
    while remaining:
        for page in list(remaining):
            pages.append(page)
            remaining[page] -= 1
            if not remaining[page]:
                del remaining[page]
    return pages


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (the value at or below which `share` of the values lie)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def summarise(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "p50": round(statistics.median(values), 3),
        "p95": round(percentile(values, 0.95), 3),
        "max": round(max(values), 3),
    }


def require_loopback(url: str) -> None:
    host = urllib.parse.urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the classroom benchmark drives loopback servers only, not {host!r}")


def sticky_cookie(url: str) -> str:
    """A browser's first request: the page. The classroom layout's nginx answers with the replica cookie."""
    with urllib.request.urlopen(url + "/", timeout=30) as response:
        cookies = response.headers.get_all("Set-Cookie") or []
    return "; ".join(cookie.split(";", 1)[0] for cookie in cookies)


class StreamlitClient:
    """One websocket session speaking Streamlit's protocol (the messages a browser tab sends and reads)."""

    def __init__(self, socket) -> None:
        self.socket = socket
        self.page = ""
        self.text_area_id = ""

    async def run(
        self,
        page: str = "",
        widget: tuple[str, str] | None = None,
        timeout: float = 120.0,
        button: str = "",
        fragment: str = "",
    ) -> dict:
        """Rerun the script (first `page`, later the current page with one widget's new value) until it finishes.

        Returns what the run drew: element count, exception messages and metric deltas. The first run of a
        fresh session may finish before drawing anything (the router's hop to the page): it is waited through.
        """
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        request = BackMsg()
        # Every rerun names the page and its link's options (as the browser's URL does): a bare rerun would run
        # the default page.
        self.page = page or self.page
        request.rerun_script.page_name, request.rerun_script.query_string = PAGE_LINKS.get(self.page, (self.page, ""))
        if widget:
            state = request.rerun_script.widget_states.widgets.add()
            state.id, state.string_value = widget
        if button:  # a click: the button's trigger, true for this one run
            state = request.rerun_script.widget_states.widgets.add()
            state.id, state.trigger_value = button, True
        if fragment:  # what a fragment's run_every timer sends: only that fragment reruns
            request.rerun_script.fragment_id, request.rerun_script.is_auto_rerun = fragment, True
        await self.socket.send(request.SerializeToString())
        drawn = {
            "elements": 0,
            "exceptions": [],
            "deltas": [],
            "importance_rows": 0,
            "buttons": [],
            "fragments": [],
            "progress": [],
        }
        while True:
            message = ForwardMsg()
            message.ParseFromString(await asyncio.wait_for(self.socket.recv(), timeout))
            kind = message.WhichOneof("type")
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                drawn["elements"] += 1
                if message.delta.fragment_id and message.delta.fragment_id not in drawn["fragments"]:
                    drawn["fragments"].append(message.delta.fragment_id)
                shape = element.WhichOneof("type")
                if shape == "exception":
                    drawn["exceptions"].append(f"{element.exception.type}: {element.exception.message[:200]}")
                elif shape == "metric" and element.metric.delta:
                    drawn["deltas"].append(element.metric.delta)
                elif shape == "button":
                    drawn["buttons"].append(element.button.id)
                elif shape == "progress":
                    drawn["progress"].append(element.progress.text)
                elif shape == "html" and " log-odds" in element.html.body:
                    drawn["importance_rows"] += 1  # Inside's "Which words mattered", one row per model
                elif shape == "text_area" and element.text_area.id.endswith("_text_area"):
                    self.text_area_id = element.text_area.id
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)
                if status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY" and not fragment:
                    continue  # a fragment's run, not the one this call asked for
                if status == "FINISHED_EARLY_FOR_RERUN" or (page and not drawn["elements"]):
                    continue  # another run follows at once (a rerun, or the router's hop on a fresh session)
                if status == "FINISHED_WITH_COMPILE_ERROR":
                    drawn["exceptions"].append("the script did not compile")
                return drawn

    async def submit(self, text: str, timeout: float = 120.0) -> dict:
        """Put `text` into the page's review box, as a visitor pressing Ctrl+Enter does."""
        if not self.text_area_id:
            raise RuntimeError("this page drew no review box")
        return await self.run(widget=(self.text_area_id, text), timeout=timeout)


@contextlib.asynccontextmanager
async def connect(url: str, cookie: str | None = None):
    """A session: the page's first request (its sticky cookie, unless `cookie` is given), then the websocket."""
    import websockets

    if cookie is None:
        cookie = await asyncio.to_thread(sticky_cookie, url)
    address = url.replace("http://", "ws://") + "/_stcore/stream"
    headers = {"Cookie": cookie} if cookie else {}
    async with websockets.connect(
        address, subprotocols=["streamlit"], max_size=None, additional_headers=headers, open_timeout=60
    ) as socket:
        yield StreamlitClient(socket)


def expected_verdicts(texts: list[str]) -> dict[str, list[str]]:
    """What "RNN vs LSTM vs GRU" must show for each text, from the library (loaded here, before measuring)."""
    from benchmarks.browser_sessions import expected_deltas

    return {text: sorted(deltas.values()) for text, deltas in zip(texts, expected_deltas(texts))}


def cli_verdicts(text: str) -> list[str]:
    """The same verdicts from `python -m rnndemo predict --json`, the independent path of the self-check."""
    from rnndemo.registry import DISPLAY_NAMES

    output = subprocess.run(
        [sys.executable, "-m", "rnndemo", "predict", text, "--json"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    models = json.loads(output)["models"]
    assert set(models) <= set(DISPLAY_NAMES)
    return sorted(f"p(positive) = {values['probability_positive']:.3f}" for values in models.values())


async def self_check(url: str, text: str) -> list[str]:
    """One session submits one review on the compare page; its verdicts must equal the CLI's. Returns problems."""
    async with connect(url) as client:
        first = await client.run(page="compare")
        shown = await client.submit(text)
    expected = await asyncio.to_thread(cli_verdicts, text)
    problems = first["exceptions"] + shown["exceptions"]
    if sorted(shown["deltas"]) != expected:
        problems.append(f"self-check: the page showed {sorted(shown['deltas'])}, `rnndemo predict` says {expected}")
    return problems


async def run_session(url: str, session: Session, expected: dict[str, list[str]], seed: int) -> None:
    import websockets

    pause = random.Random(seed * 1_000 + session.index)
    try:
        async with connect(url) as client:
            opened = await client.run(page=session.page)
            session.errors += opened["exceptions"]
            for text in session.texts:
                await asyncio.sleep(pause.uniform(*READ_SECONDS))
                started = time.perf_counter()
                drawn = await client.submit(text)
                session.seconds.append(time.perf_counter() - started)
                session.errors += drawn["exceptions"]
                if session.page == "inside_measured" and not drawn["importance_rows"]:
                    session.errors.append("Inside with its words measured drew no importance")
                if session.page == "compare":
                    session.verdicts.append(sorted(drawn["deltas"]))
                    if sorted(drawn["deltas"]) != expected[text]:
                        session.errors.append(f"verdicts {sorted(drawn['deltas'])} != library {expected[text]}")
    except (websockets.ConnectionClosed, ConnectionError) as error:
        session.disconnected = True
        session.errors.append(f"disconnected: {type(error).__name__}")
    except (TimeoutError, RuntimeError, OSError) as error:
        session.errors.append(f"{type(error).__name__}: {str(error)[:200]}")


@dataclass
class Racer:
    """The visitor on "Train it yourself" who starts a race while the class works, and what the race did."""

    progress: list[str] = field(default_factory=list)  # the progress bar's texts, one per poll
    errors: list[str] = field(default_factory=list)

    @property
    def trained(self) -> bool:
        return any(text.startswith("Training") for text in self.progress)


async def run_racer(url: str, racer: Racer, class_done: asyncio.Event) -> None:
    """Open the race page, press Train, and poll the live section as its run_every timer does (every
    pages/race.py POLL_SECONDS) until the class has finished: the race's worker trains meanwhile."""
    import websockets

    try:
        async with connect(url) as client:
            opened = await client.run(page="race")
            train = [identifier for identifier in opened["buttons"] if identifier.endswith("race_train")]
            if not train:
                racer.errors.append("the race page drew no Train button")
                return
            pressed = await client.run(button=train[0])
            racer.errors += opened["exceptions"] + pressed["exceptions"]
            live = pressed["fragments"][-1] if pressed["fragments"] else ""
            while not class_done.is_set():
                await asyncio.sleep(RACE_POLL_SECONDS)
                polled = await client.run(fragment=live) if live else await client.run()
                racer.progress += polled["progress"]
                racer.errors += polled["exceptions"]
    except (websockets.ConnectionClosed, ConnectionError, TimeoutError, RuntimeError, OSError) as error:
        racer.errors.append(f"{type(error).__name__}: {str(error)[:200]}")


def server_processes() -> list[int]:
    """Pids of every app process of either layout on this machine (`scripts/serve.py`)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if SERVER_COMMAND in command and "python" in command:
            pids.append(int(pid))
    return sorted(pids)


def rss_megabytes(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration):
        return 0.0


def measure(url: str, sessions: int, mix: dict[str, float], submits: int, seed: int, race: bool = False) -> dict:
    """One class: `sessions` students at once on `url`; per-page times, errors, disconnects, server CPU and RSS.
    With `race`, one more visitor trains a live race on "Train it yourself" the whole time."""
    pages = assign_pages(sessions, mix)
    pool = sample_texts(sessions * submits + 1, seed=seed)
    students = [Session(index, page, pool[index * submits : (index + 1) * submits]) for index, page in enumerate(pages)]
    needed = sorted({text for student in students if student.page == "compare" for text in student.texts})
    expected = expected_verdicts(needed + [pool[-1]]) if needed else expected_verdicts([pool[-1]])
    problems = asyncio.run(self_check(url, pool[-1]))
    if problems:
        return {"url": url, "self_check": problems}

    cpu_before = cpu_seconds(SERVER_COMMAND) + cpu_seconds("nginx")
    started = time.perf_counter()

    racer = Racer() if race else None

    async def everyone() -> None:
        class_done = asyncio.Event()
        racing = asyncio.create_task(run_racer(url, racer, class_done)) if racer else None
        if racing:
            await asyncio.sleep(RACE_HEAD_START_SECONDS)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(run_session(url, student, expected, seed) for student in students)),
                RUN_TIMEOUT_SECONDS,
            )
        finally:
            class_done.set()
            if racing:
                await racing

    timed_out = False
    try:
        asyncio.run(everyone())
    except TimeoutError:
        timed_out = True
    wall = time.perf_counter() - started
    cpu = cpu_seconds(SERVER_COMMAND) + cpu_seconds("nginx") - cpu_before
    per_page = {
        page: summarise([second for student in students if student.page == page for second in student.seconds])
        for page in mix
    }
    return {
        "url": url,
        "sessions": sessions,
        "submits": submits,
        "mix": mix,
        "all": summarise([second for student in students for second in student.seconds]),
        "pages": per_page,
        "errors": sum(len(student.errors) for student in students if not student.disconnected),
        "disconnects": sum(student.disconnected for student in students),
        "unfinished_submits": sessions * submits - sum(len(student.seconds) for student in students),
        "timed_out": timed_out,
        "error_examples": [error for student in students for error in student.errors][:5],
        "server_cpu_cores": round(cpu / wall, 2),
        "server_rss_mb": [round(rss_megabytes(pid)) for pid in server_processes()],
        "wall_seconds": round(wall, 1),
        "self_check": "ok",
    } | ({"race": race_summary(racer)} if racer else {})


def race_summary(racer: Racer) -> dict:
    """Whether the race trained while the class worked, and how many live polls it answered."""
    return {"trained": racer.trained, "polls": len(racer.progress), "errors": racer.errors[:5]}


@contextlib.contextmanager
def started_layout(layout: str, replicas: int | None):
    """Start `single` (one `scripts/serve.py`, as `make app`) or `classroom` (replicas behind nginx)."""
    if layout == "single":
        with streamlit_server(timeout=240) as (url, _process, _seconds):
            yield url
    elif layout == "classroom":
        sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
        from classroom import DEFAULT_REPLICAS, Classroom  # scripts/classroom.py: the layout `make classroom` starts

        from benchmarks.browser import free_port

        with Classroom(free_port(), DEFAULT_REPLICAS if replicas is None else replicas) as classroom:
            supervisor = threading.Thread(target=classroom.supervise, daemon=True)
            supervisor.start()
            yield classroom.url
    else:
        raise ValueError(f"--layout: {layout!r} is not single or classroom")


def parse_arguments(arguments: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.classroom", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="30", help="simultaneous sessions; a list runs each (e.g. 10,30,60)")
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"page=share,... (default {DEFAULT_MIX})")
    parser.add_argument("--submits", type=int, default=5, help="reviews each session submits (default 5)")
    parser.add_argument("--url", help="measure a running server on loopback instead of starting one")
    parser.add_argument("--layout", default="classroom", help="single, classroom, or both: single,classroom")
    parser.add_argument(
        "--replicas", type=int, default=None, help="classroom replicas (default: make classroom's, 2 per core)"
    )
    parser.add_argument("--seed", type=int, default=0, help="which reviews and reading pauses (default 0)")
    parser.add_argument(
        "--race", action="store_true", help="one more visitor trains a live race (Train it yourself) meanwhile"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parsed = parser.parse_args(arguments)
    try:
        parsed.sessions = [int(value) for value in parsed.sessions.split(",")]
        parsed.mix = parse_mix(parsed.mix)
        parsed.layouts = [value.strip() for value in parsed.layout.split(",")]
    except ValueError as error:
        parser.error(str(error))
    if not all(1 <= value <= MAX_SESSIONS for value in parsed.sessions):
        parser.error(f"--sessions must be 1-{MAX_SESSIONS}")
    if not 1 <= parsed.submits <= MAX_SUBMITS:
        parser.error(f"--submits must be 1-{MAX_SUBMITS}")
    if not set(parsed.layouts) <= {"single", "classroom"}:
        parser.error("--layout must be single, classroom or single,classroom")
    if parsed.url:
        try:
            require_loopback(parsed.url)
        except ValueError as error:
            parser.error(str(error))
        parsed.url = parsed.url.rstrip("/")
    return parsed


def format_row(layout: str, result: dict) -> str:
    def cell(summary: dict) -> str:
        if not summary.get("count"):
            return "-"
        return f"{summary['p50']:.2f} / {summary['p95']:.2f} / {summary['max']:.2f}"

    pages = ", ".join(f"{page} {result['pages'][page].get('p95', float('nan')):.2f}" for page in result["pages"])
    return (
        f"| {layout} | {result['sessions']} | {cell(result['all'])} | {pages} | {result['errors']} | "
        f"{result['disconnects']} | {result['server_cpu_cores']:.2f} | {', '.join(map(str, result['server_rss_mb']))} |"
    )


def main(arguments: list[str] | None = None) -> int:
    parsed = parse_arguments(sys.argv[1:] if arguments is None else arguments)
    results: list[tuple[str, dict]] = []
    layouts = ["url"] if parsed.url else parsed.layouts
    for layout in layouts:
        context = contextlib.nullcontext(parsed.url) if parsed.url else started_layout(layout, parsed.replicas)
        with context as url:
            for sessions in parsed.sessions:
                result = measure(url, sessions, parsed.mix, parsed.submits, parsed.seed, race=parsed.race)
                results.append((layout, result))
                if result["self_check"] != "ok":
                    print("\n".join(result["self_check"]), file=sys.stderr)
                    return 1
                print(f"{layout}, {sessions} sessions: done in {result['wall_seconds']} s", file=sys.stderr, flush=True)
    if parsed.json:
        print(json.dumps([dict(layout=layout, **result) for layout, result in results], indent=1))
    else:
        print(
            "| layout | sessions | submit → script finished p50 / p95 / max (s) | p95 per page (s) | errors "
            "| disconnects | server CPU (cores) | RSS per process (MB) |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for layout, result in results:
            print(format_row(layout, result))
            if "race" in result:
                race = result["race"]
                print(
                    f"{layout}: the race {'trained' if race['trained'] else 'never trained'} through the class "
                    f"({race['polls']} live polls){'; ' + '; '.join(race['errors']) if race['errors'] else ''}"
                )
    failed = any(
        result["errors"]
        or result["disconnects"]
        or result["unfinished_submits"]
        or ("race" in result and (result["race"]["errors"] or not result["race"]["trained"]))
        for _, result in results
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
