"""How responsive the playground page is with its largest network (6 hidden layers of 8 units):
updates a second the page shows while training (each one a new training step drawn with its
decision surface and every unit thumbnail), the longest gap between two of them, and how long
a click on a unit takes to answer while training goes on.

    OMP_NUM_THREADS=1 python benchmarks/bench_playground.py            # browser + server
    OMP_NUM_THREADS=1 python benchmarks/bench_playground.py --no-browser   # server only
    OMP_NUM_THREADS=1 python benchmarks/bench_playground.py --busy        # + one CPU hog

The browser run uses headless Chromium (Debian's chromium, driven by Playwright) on the
machine that serves; it writes docs/results/playground.json. The issue asks for at least 10
updates a second on two cores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import threading
import time
import urllib.request
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
CONFIG = {"dataset": "spiral", "hidden": [8] * 6, "activation": "tanh", "lr": 0.03,
          "optimizer": "adam", "batch_size": 10, "features": ["x1", "x2"], "seed": 0}
HASH = ("#dataset=spiral&hidden=8,8,8,8,8,8&activation=tanh&lr=0.03&optimizer=adam"
        "&batch_size=10&features=x1,x2&seed=0")

# wraps the page's render(): the time and step of every state drawn
HOOK = """(() => {
window.__renders = [];
const orig = window.render;
window.render = function (st, full) { orig(st, full);
  window.__renders.push([performance.now(), st.step, st.playing]); };
})()"""


def browser_run(url: str, seconds: float, chromium: str) -> dict[str, float]:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=ARGS)
        pg = b.new_page(viewport={"width": 1280, "height": 860})
        pg.goto(url + HASH)
        pg.wait_for_selector("body[data-ready='1']")
        assert pg.evaluate("cfg.hidden.length") == 6
        pg.evaluate(HOOK)
        pg.click("#play")
        time.sleep(2.0)                                    # warm up
        pg.evaluate("window.__renders = []")
        t0 = time.perf_counter()
        latencies = []
        while time.perf_counter() - t0 < seconds:          # a unit click now and then
            time.sleep(seconds / 5)
            latencies.append(pg.evaluate(
                "(async () => { const t = performance.now(); await openUnit(3, 4);"
                " return performance.now() - t; })()"))
        renders = pg.evaluate("window.__renders")
        shown_rate = pg.evaluate("Number(document.querySelector('#rate').textContent)")
        pg.click("#play")
        b.close()
    times = [r[0] for r in renders if r[2]]
    steps = [r[1] for r in renders if r[2]]
    span = (times[-1] - times[0]) / 1000
    new = sum(1 for a, c in zip(steps, steps[1:]) if c != a)
    gaps = [c - a for a, c in zip(times, times[1:])]
    return {"updates_per_s": new / span, "renders_per_s": (len(times) - 1) / span,
            "steps_per_s": (steps[-1] - steps[0]) / span, "max_gap_ms": max(gaps),
            "median_gap_ms": sorted(gaps)[len(gaps) // 2], "seconds": span,
            "unit_click_ms_max": max(latencies),
            "unit_click_ms_median": sorted(latencies)[len(latencies) // 2],
            "counter_on_page": shown_rate}


def server_run(url: str, seconds: float) -> dict[str, float]:
    def call(method: str, path: str, body: object = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url.rstrip("/") + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    sid = call("POST", "/api/session", {"config": CONFIG})["id"]
    call("POST", f"/api/session/{sid}/play", {})
    time.sleep(1.0)
    t0, steps, n, worst = time.perf_counter(), [], 0, 0.0
    while time.perf_counter() - t0 < seconds:
        t = time.perf_counter()
        steps.append(call("GET", f"/api/session/{sid}/state?full=0")["step"])
        worst = max(worst, time.perf_counter() - t)
        n += 1
    span = time.perf_counter() - t0
    call("POST", f"/api/session/{sid}/pause", {})
    new = sum(1 for a, c in zip(steps, steps[1:]) if c != a)
    return {"state_polls_per_s": n / span, "updates_per_s": new / span,
            "steps_per_s": (steps[-1] - steps[0]) / span, "slowest_poll_ms": 1000 * worst}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--busy", action="store_true",
                    help="also measure with one other CPU-bound process running")
    ap.add_argument("--out", type=Path, default=Path("docs/results/playground.json"))
    args = ap.parse_args(argv)
    from glassnet.playground import make_server
    srv = make_server(0)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    load = os.getloadavg()[0]
    try:
        res: dict[str, object] = {"network": "2 inputs, 6 hidden layers of 8 tanh units, 1 output",
                                  "config": CONFIG, "cpus": os.cpu_count(),
                                  "load_average_before": round(load, 2),
                                  "python": platform.python_version()}
        res["server_only"] = server_run(srv.url, args.seconds)
        if not args.no_browser:
            if not Path(args.chromium).exists():
                print(f"no Chromium at {args.chromium}", file=sys.stderr)
                return 1
            res["browser"] = browser_run(srv.url, args.seconds, args.chromium)
            if args.busy:    # a second run with `python -c "while True: pass"` beside it
                import subprocess
                hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
                try:
                    time.sleep(0.5)
                    res["browser_one_cpu_hog"] = browser_run(srv.url, args.seconds,
                                                             args.chromium)
                finally:
                    hog.kill()
                    hog.wait()
    finally:
        srv.shutdown()
        srv.server_close()
    res = json.loads(json.dumps(res), parse_float=lambda v: round(float(v), 1))
    print(json.dumps(res, indent=2))
    if not args.no_browser:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
