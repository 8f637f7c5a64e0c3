"""Time the explorer: one decode (in process and over HTTP), and the page load in headless Chromium.

    python -m vaekit.explore.timing RUN_DIR [--repeats 200] [--browser]

Prints milliseconds: min and median over `--repeats` decodes of random z (seeded); with --browser (needs selenium
and Debian's chromium + chromium-driver), the time from navigation to the page being ready (sliders built, first
image decoded, map drawn), over 5 loads.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import threading
import time
from contextlib import contextmanager

import torch

from vaekit.explore.app import create_app
from vaekit.explore.state import Explorer
from vaekit.run import load_run


def decode_times(explorer: Explorer, repeats: int, seed: int = 0) -> list[float]:
    """Milliseconds of Explorer.decode (decode + PNG encode) for `repeats` z ~ N(0, I)."""
    g = torch.Generator().manual_seed(seed)
    dim = len(explorer.ranking.score)
    times = []
    for _ in range(repeats):
        z = torch.randn(dim, generator=g).tolist()
        start = time.perf_counter()
        explorer.decode(z)
        times.append(1000 * (time.perf_counter() - start))
    return times


def http_times(port: int, dim: int, repeats: int, seed: int = 0) -> list[float]:
    """Milliseconds of POST /api/decode round trips to uvicorn on `port`, over one kept-alive connection."""
    g = torch.Generator().manual_seed(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for _ in range(repeats):
        body = json.dumps({"z": torch.randn(dim, generator=g).tolist()})
        start = time.perf_counter()
        connection.request("POST", "/api/decode", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        times.append(1000 * (time.perf_counter() - start))
        if response.status != 200:
            raise RuntimeError(f"POST /api/decode answered {response.status}")
    connection.close()
    return times


@contextmanager
def served(app):
    """Serve `app` with uvicorn on a free local port in a thread; yields the port."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def page_load_times(port: int, loads: int = 5) -> list[float]:
    """Milliseconds from navigation start to the page being ready, in headless Chromium."""
    from selenium import webdriver
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=webdriver.ChromeService("/usr/bin/chromedriver"), options=options)
    ready = "return document.body.dataset.ready === '1' && state.map !== null && $('decoded').complete"
    times = []
    try:
        for _ in range(loads):
            driver.get(f"http://127.0.0.1:{port}/")
            WebDriverWait(driver, 30).until(lambda d: d.execute_script(ready))
            times.append(driver.execute_script("return performance.now()"))
    finally:
        driver.quit()
    return times


def summary(name: str, times: list[float]) -> str:
    return f"{name}: min {min(times):.2f} ms, median {statistics.median(times):.2f} ms over {len(times)}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--browser", action="store_true", help="also time the page load in headless Chromium")
    args = parser.parse_args(argv)
    run = load_run(args.run_dir)
    start = time.perf_counter()
    explorer = Explorer(run)
    print(f"startup (load data, encode the test set): {time.perf_counter() - start:.2f} s")
    app = create_app(run, explorer)
    explorer.decode([0.0] * len(explorer.ranking.score))  # warm-up: imports, first allocation
    print(summary("decode + PNG, in process", decode_times(explorer, args.repeats)))
    with served(app) as port:
        times = http_times(port, len(explorer.ranking.score), args.repeats)
        print(summary("POST /api/decode round trip (uvicorn, keep-alive)", times))
        if args.browser:
            print(summary("page load to ready, headless Chromium", page_load_times(port)))


if __name__ == "__main__":
    main()
